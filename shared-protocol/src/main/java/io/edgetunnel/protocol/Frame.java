package io.edgetunnel.protocol;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One tunnel frame. Each WebSocket binary message carries exactly one frame; the layout of every
 * type is specified in {@code docs/protocol.md} and implemented by {@link FrameCodec}.
 *
 * <p>Connection-level frames use stream id 0; stream frames use a positive id chosen by the
 * ingress (the side that opens streams).
 */
public sealed interface Frame
        permits Frame.Hello,
                Frame.Accept,
                Frame.Reject,
                Frame.Request,
                Frame.Response,
                Frame.Data,
                Frame.Trailers,
                Frame.WindowUpdate,
                Frame.Reset,
                Frame.Ping,
                Frame.Pong,
                Frame.Drain,
                Frame.RouteHealth {

    /** 0 for connection-level frames. */
    int streamId();

    /** Agent → ingress, first frame on a tunnel. */
    record Hello(
            int minVersion,
            int maxVersion,
            String agentId,
            String token,
            String identityProof,
            List<RouteClaim> routes,
            Map<String, String> attributes)
            implements Frame {
        public Hello {
            requireUnsignedShort(minVersion, "minVersion");
            requireUnsignedShort(maxVersion, "maxVersion");
            if (minVersion > maxVersion) {
                throw new IllegalArgumentException(
                        "minVersion: " + minVersion + " (expected: <= maxVersion " + maxVersion + ")");
            }
            Objects.requireNonNull(agentId, "agentId");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(identityProof, "identityProof");
            routes = List.copyOf(routes);
            attributes = Map.copyOf(attributes);
        }

        @Override
        public int streamId() {
            return 0;
        }

        /** Never prints the token or the identity proof. */
        @Override
        public String toString() {
            return "Hello[agentId=" + agentId + ", versions=" + minVersion + ".." + maxVersion + ", routes="
                    + routes + ", token=" + (token.isEmpty() ? "none" : "****") + ", identityProof="
                    + (identityProof.isEmpty() ? "none" : "****") + "]";
        }
    }

    /**
     * Ingress → agent: the hello was accepted; the tunnel now runs with these settings.
     *
     * <p>{@code replicaId} and {@code replicaCount} (which ingress replica the tunnel reached, and how
     * many the cluster has) exist on the wire from version {@link ProtocolVersion#REPLICA_IN_ACCEPT}
     * on; a version 1 Accept carries none, which reads as {@code ""} and {@code 1} (the record refuses
     * other values for it, so that encoding never drops what a caller set).
     */
    record Accept(
            int version,
            String sessionId,
            int maxFramePayload,
            int initialStreamWindow,
            int maxConcurrentStreams,
            int heartbeatIntervalMillis,
            String replicaId,
            int replicaCount)
            implements Frame {
        public Accept {
            requireUnsignedShort(version, "version");
            Objects.requireNonNull(sessionId, "sessionId");
            requirePositive(maxFramePayload, "maxFramePayload");
            requirePositive(initialStreamWindow, "initialStreamWindow");
            requirePositive(maxConcurrentStreams, "maxConcurrentStreams");
            requirePositive(heartbeatIntervalMillis, "heartbeatIntervalMillis");
            Objects.requireNonNull(replicaId, "replicaId");
            requirePositive(replicaCount, "replicaCount");
            if (version < ProtocolVersion.REPLICA_IN_ACCEPT && (!replicaId.isEmpty() || replicaCount != 1)) {
                throw new IllegalArgumentException("replicaId \"" + replicaId + "\", replicaCount " + replicaCount
                        + " at version " + version + " (expected: \"\" and 1 below version "
                        + ProtocolVersion.REPLICA_IN_ACCEPT + ", which cannot carry them)");
            }
        }

        /** An Accept that says nothing about replicas (any version). */
        public Accept(
                int version,
                String sessionId,
                int maxFramePayload,
                int initialStreamWindow,
                int maxConcurrentStreams,
                int heartbeatIntervalMillis) {
            this(version, sessionId, maxFramePayload, initialStreamWindow, maxConcurrentStreams,
                    heartbeatIntervalMillis, "", 1);
        }

        /** Whether this version of the frame has the replica fields on the wire. */
        public boolean carriesReplica() {
            return version >= ProtocolVersion.REPLICA_IN_ACCEPT;
        }

        @Override
        public int streamId() {
            return 0;
        }
    }

    /** Ingress → agent: the hello was refused; the ingress closes the tunnel right after. */
    record Reject(RejectReason reason, String message) implements Frame {
        public Reject {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }

        @Override
        public int streamId() {
            return 0;
        }
    }

    /**
     * Ingress → agent: opens a stream. {@code routeHost} and {@code routePathPrefix} name the route
     * the ingress matched, exactly as the agent claimed it, so the agent need not match again.
     */
    record Request(
            int streamId,
            String method,
            String target,
            String routeHost,
            String routePathPrefix,
            List<Header> headers,
            boolean endStream)
            implements Frame {
        public Request {
            requireStream(streamId);
            requireNonEmpty(method, "method");
            requireNonEmpty(target, "target");
            Objects.requireNonNull(routeHost, "routeHost");
            Objects.requireNonNull(routePathPrefix, "routePathPrefix");
            headers = List.copyOf(headers);
        }
    }

    /** Agent → ingress: response status and headers of a stream. */
    record Response(int streamId, int status, List<Header> headers, boolean endStream) implements Frame {
        public Response {
            requireStream(streamId);
            if (status < 100 || status > 999) {
                throw new IllegalArgumentException("status: " + status + " (expected: 100..999)");
            }
            headers = List.copyOf(headers);
        }
    }

    /**
     * A chunk of a request or response body. The frame owns one reference to {@code content}: whoever
     * consumes the frame must release it exactly once. Counts against the receiver's stream window.
     */
    record Data(int streamId, ByteBuf content, boolean endStream) implements Frame {
        public Data {
            requireStream(streamId);
            Objects.requireNonNull(content, "content");
        }

        @Override
        public String toString() {
            return "Data[streamId=" + streamId + ", bytes=" + content.readableBytes() + ", endStream=" + endStream
                    + "]";
        }
    }

    /** Trailing headers of a body (gRPC status and the like); always ends its direction of the stream. */
    record Trailers(int streamId, List<Header> headers) implements Frame {
        public Trailers {
            requireStream(streamId);
            headers = List.copyOf(headers);
        }
    }

    /** Grants the peer {@code increment} more bytes of DATA on a stream. */
    record WindowUpdate(int streamId, int increment) implements Frame {
        public WindowUpdate {
            requireStream(streamId);
            requirePositive(increment, "increment");
        }
    }

    /** Ends a stream abnormally, in both directions. */
    record Reset(int streamId, ResetCode code, String message) implements Frame {
        public Reset {
            requireStream(streamId);
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(message, "message");
        }
    }

    /** Heartbeat; the peer answers with a {@link Pong} carrying the same payload. */
    record Ping(long payload) implements Frame {
        @Override
        public int streamId() {
            return 0;
        }
    }

    record Pong(long payload) implements Frame {
        @Override
        public int streamId() {
            return 0;
        }
    }

    /** Either side: accept no new streams on this tunnel; streams in flight finish. */
    record Drain(String reason) implements Frame {
        public Drain {
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public int streamId() {
            return 0;
        }
    }

    /** Agent → ingress: a claimed route's local app became healthy or unhealthy. */
    record RouteHealth(RouteClaim route, boolean healthy) implements Frame {
        public RouteHealth {
            Objects.requireNonNull(route, "route");
        }

        @Override
        public int streamId() {
            return 0;
        }
    }

    private static void requireStream(int streamId) {
        if (streamId <= 0) {
            throw new IllegalArgumentException("streamId: " + streamId + " (expected: > 0)");
        }
    }

    private static void requirePositive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }

    private static void requireUnsignedShort(int value, String name) {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: 0..65535)");
        }
    }

    private static void requireNonEmpty(String value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(name + ": \"\" (expected: non-empty)");
        }
    }
}
