package io.edgetunnel.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Binary codec for {@link Frame}s, one frame per WebSocket binary message. Layout: {@code type u8,
 * flags u8, streamId u32}, then a type-specific payload (see {@code docs/protocol.md}).
 *
 * <p>Bodies are never copied: {@link #decode} returns DATA content as a retained slice of the input
 * and {@link #encode} puts DATA content into a composite buffer behind its 6-byte header. Every
 * decode error is a {@link ProtocolException}; no other exception escapes for any input.
 */
public final class FrameCodec {

    public static final int HEADER_BYTES = 6;

    static final int FLAG_END_STREAM = 0x01;

    private final ProtocolLimits limits;

    public FrameCodec(ProtocolLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    public ProtocolLimits limits() {
        return limits;
    }

    // ---------------------------------------------------------------- encode

    /**
     * Encodes a frame. For {@link Frame.Data} the returned buffer takes over the frame's reference to
     * its content, so the caller must not release the content itself.
     */
    public ByteBuf encode(Frame frame, ByteBufAllocator alloc) {
        if (frame instanceof Frame.Data data) {
            ByteBuf header = alloc.buffer(HEADER_BYTES, HEADER_BYTES);
            writeHeader(header, FrameType.DATA, data.endStream() ? FLAG_END_STREAM : 0, data.streamId());
            if (!data.content().isReadable()) {
                data.content().release();
                return header;
            }
            CompositeByteBuf composite = alloc.compositeBuffer(2);
            composite.addComponents(true, header, data.content());
            return composite;
        }
        ByteBuf out = alloc.buffer(64);
        try {
            encodeControl(frame, out);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    private static void encodeControl(Frame frame, ByteBuf out) {
        if (frame instanceof Frame.Hello hello) {
            writeHeader(out, FrameType.HELLO, 0, 0);
            out.writeShort(hello.minVersion());
            out.writeShort(hello.maxVersion());
            writeString(out, hello.agentId());
            writeString(out, hello.token());
            writeString(out, hello.identityProof());
            writeCount(out, hello.routes().size(), "routes");
            for (RouteClaim route : hello.routes()) {
                writeString(out, route.host());
                writeString(out, route.pathPrefix());
            }
            writeCount(out, hello.attributes().size(), "attributes");
            for (Map.Entry<String, String> attribute : hello.attributes().entrySet()) {
                writeString(out, attribute.getKey());
                writeString(out, attribute.getValue());
            }
        } else if (frame instanceof Frame.Accept accept) {
            writeHeader(out, FrameType.ACCEPT, 0, 0);
            out.writeShort(accept.version());
            writeString(out, accept.sessionId());
            out.writeInt(accept.maxFramePayload());
            out.writeInt(accept.initialStreamWindow());
            out.writeInt(accept.maxConcurrentStreams());
            out.writeInt(accept.heartbeatIntervalMillis());
            if (accept.carriesReplica()) {
                writeString(out, accept.replicaId());
                out.writeInt(accept.replicaCount());
            }
        } else if (frame instanceof Frame.Reject reject) {
            writeHeader(out, FrameType.REJECT, 0, 0);
            out.writeShort(reject.reason().code());
            writeString(out, reject.message());
        } else if (frame instanceof Frame.Request request) {
            writeHeader(out, FrameType.REQUEST, request.endStream() ? FLAG_END_STREAM : 0, request.streamId());
            writeString(out, request.method());
            writeString(out, request.target());
            writeString(out, request.routeHost());
            writeString(out, request.routePathPrefix());
            writeHeaders(out, request.headers());
        } else if (frame instanceof Frame.Response response) {
            writeHeader(out, FrameType.RESPONSE, response.endStream() ? FLAG_END_STREAM : 0, response.streamId());
            out.writeShort(response.status());
            writeHeaders(out, response.headers());
        } else if (frame instanceof Frame.Trailers trailers) {
            writeHeader(out, FrameType.TRAILERS, FLAG_END_STREAM, trailers.streamId());
            writeHeaders(out, trailers.headers());
        } else if (frame instanceof Frame.WindowUpdate update) {
            writeHeader(out, FrameType.WINDOW_UPDATE, 0, update.streamId());
            out.writeInt(update.increment());
        } else if (frame instanceof Frame.Reset reset) {
            writeHeader(out, FrameType.RESET, 0, reset.streamId());
            out.writeShort(reset.code().code());
            writeString(out, reset.message());
        } else if (frame instanceof Frame.Ping ping) {
            writeHeader(out, FrameType.PING, 0, 0);
            out.writeLong(ping.payload());
        } else if (frame instanceof Frame.Pong pong) {
            writeHeader(out, FrameType.PONG, 0, 0);
            out.writeLong(pong.payload());
        } else if (frame instanceof Frame.Drain drain) {
            writeHeader(out, FrameType.DRAIN, 0, 0);
            writeString(out, drain.reason());
        } else if (frame instanceof Frame.RouteHealth health) {
            writeHeader(out, FrameType.ROUTE_HEALTH, 0, 0);
            writeString(out, health.route().host());
            writeString(out, health.route().pathPrefix());
            out.writeByte(health.healthy() ? 1 : 0);
        } else {
            throw new IllegalArgumentException("frame: " + frame + " (expected: a known frame type)");
        }
    }

    private static void writeHeader(ByteBuf out, FrameType type, int flags, int streamId) {
        out.writeByte(type.code);
        out.writeByte(flags);
        out.writeInt(streamId);
    }

    private static void writeHeaders(ByteBuf out, List<Header> headers) {
        writeCount(out, headers.size(), "headers");
        for (Header header : headers) {
            writeString(out, header.name());
            writeString(out, header.value());
        }
    }

    /** A u16 count; larger would silently wrap and corrupt the frame. */
    private static void writeCount(ByteBuf out, int count, String what) {
        if (count > 0xFFFF) {
            throw new IllegalArgumentException(what + ": " + count + " (expected: <= 65535)");
        }
        out.writeShort(count);
    }

    private static void writeString(ByteBuf out, String value) {
        // the JDK encodes a whole (mostly ASCII) string in one go, and the buffer takes it in one copy:
        // cheaper than a buffer call per char, above all with only the C1 compiler (the agent's image)
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 0xFFFF) {
            throw new IllegalArgumentException("string of " + bytes.length + " bytes (expected: <= 65535)");
        }
        out.writeShort(bytes.length);
        out.writeBytes(bytes);
    }

    // ---------------------------------------------------------------- decode

    /**
     * Decodes one frame. Does not release {@code in}; a returned {@link Frame.Data} holds its own
     * retained slice of it, which the caller must release.
     *
     * @throws ProtocolException for any malformed, truncated or over-limit input
     */
    public Frame decode(ByteBuf in) {
        int length = in.readableBytes();
        if (length > limits.maxFrameBytes()) {
            throw new ProtocolException(
                    CloseCode.FRAME_TOO_LARGE,
                    "frame of " + length + " bytes (expected: <= " + limits.maxFrameBytes() + ")");
        }
        if (length < HEADER_BYTES) {
            throw new ProtocolException(
                    CloseCode.PROTOCOL_ERROR, "frame of " + length + " bytes (expected: >= " + HEADER_BYTES + ")");
        }
        Reader reader = new Reader(in.duplicate(), limits);
        int typeCode = reader.u8();
        FrameType type = FrameType.of(typeCode);
        if (type == null) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "unknown frame type 0x" + Integer.toHexString(typeCode));
        }
        int flags = reader.u8();
        int streamId = reader.buf.readInt();
        boolean endStream = (flags & FLAG_END_STREAM) != 0;
        checkStreamId(type, streamId);
        try {
            Frame frame = decodePayload(type, streamId, endStream, reader);
            if (type != FrameType.DATA && reader.buf.isReadable()) {
                throw new ProtocolException(
                        CloseCode.PROTOCOL_ERROR,
                        type + " frame has " + reader.buf.readableBytes() + " trailing bytes (expected: 0)");
            }
            return frame;
        } catch (IllegalArgumentException | NullPointerException e) {
            // a field that decoded but breaks a record invariant (bad status, bad host pattern, ...)
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, type + " frame: " + e.getMessage());
        }
    }

    private static void checkStreamId(FrameType type, int streamId) {
        boolean streamFrame = switch (type) {
            case REQUEST, RESPONSE, DATA, WINDOW_UPDATE, RESET, TRAILERS -> true;
            default -> false;
        };
        if (streamFrame && streamId <= 0) {
            throw new ProtocolException(
                    CloseCode.PROTOCOL_ERROR, type + " frame with stream id " + streamId + " (expected: > 0)");
        }
        if (!streamFrame && streamId != 0) {
            throw new ProtocolException(
                    CloseCode.PROTOCOL_ERROR, type + " frame with stream id " + streamId + " (expected: 0)");
        }
    }

    private Frame decodePayload(FrameType type, int streamId, boolean endStream, Reader r) {
        return switch (type) {
            case HELLO -> decodeHello(r);
            case ACCEPT -> decodeAccept(r);
            case REJECT -> new Frame.Reject(RejectReason.of(r.u16()), r.string());
            case REQUEST -> new Frame.Request(
                    streamId, r.string(), r.string(), r.string(), r.string(), r.headers(), endStream);
            case RESPONSE -> new Frame.Response(streamId, r.u16(), r.headers(), endStream);
            case DATA -> new Frame.Data(streamId, r.buf.retainedSlice(), endStream);
            case TRAILERS -> new Frame.Trailers(streamId, r.headers());
            case WINDOW_UPDATE -> new Frame.WindowUpdate(streamId, r.i32());
            case RESET -> new Frame.Reset(streamId, ResetCode.of(r.u16()), r.string());
            case PING -> new Frame.Ping(r.i64());
            case PONG -> new Frame.Pong(r.i64());
            case DRAIN -> new Frame.Drain(r.string());
            case ROUTE_HEALTH -> new Frame.RouteHealth(new RouteClaim(r.string(), r.string()), r.bool());
        };
    }

    /**
     * The layout follows the version the frame itself names, which the ingress chose from the agent's
     * range: a peer never receives fields of a version it did not offer, and every field stays
     * mandatory for its version (no optional tail), so a truncated Accept is still an error.
     */
    private static Frame.Accept decodeAccept(Reader r) {
        int version = r.u16();
        String sessionId = r.string();
        int maxFramePayload = r.i32();
        int initialStreamWindow = r.i32();
        int maxConcurrentStreams = r.i32();
        int heartbeatIntervalMillis = r.i32();
        if (version < ProtocolVersion.REPLICA_IN_ACCEPT) {
            return new Frame.Accept(
                    version, sessionId, maxFramePayload, initialStreamWindow, maxConcurrentStreams, heartbeatIntervalMillis);
        }
        return new Frame.Accept(version, sessionId, maxFramePayload, initialStreamWindow, maxConcurrentStreams,
                heartbeatIntervalMillis, r.string(), r.i32());
    }

    private Frame.Hello decodeHello(Reader r) {
        int minVersion = r.u16();
        int maxVersion = r.u16();
        String agentId = r.string();
        String token = r.string();
        String identityProof = r.string();
        int routeCount = r.u16();
        if (routeCount > limits.maxRoutes()) {
            throw new ProtocolException(
                    CloseCode.FRAME_TOO_LARGE,
                    "hello claims " + routeCount + " routes (expected: <= " + limits.maxRoutes() + ")");
        }
        List<RouteClaim> routes = new ArrayList<>(routeCount);
        for (int i = 0; i < routeCount; i++) {
            routes.add(new RouteClaim(r.string(), r.string()));
        }
        int attributeCount = r.u16();
        if (attributeCount > limits.maxHeaderCount()) {
            throw new ProtocolException(
                    CloseCode.FRAME_TOO_LARGE,
                    "hello has " + attributeCount + " attributes (expected: <= " + limits.maxHeaderCount() + ")");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        for (int i = 0; i < attributeCount; i++) {
            attributes.put(r.string(), r.string());
        }
        return new Frame.Hello(minVersion, maxVersion, agentId, token, identityProof, routes, attributes);
    }

    /** Bounds-checked reads: a short buffer is a protocol error, never an IndexOutOfBoundsException. */
    private static final class Reader {
        final ByteBuf buf;
        final ProtocolLimits limits;

        Reader(ByteBuf buf, ProtocolLimits limits) {
            this.buf = buf;
            this.limits = limits;
        }

        private void need(int bytes, String what) {
            if (buf.readableBytes() < bytes) {
                throw new ProtocolException(
                        CloseCode.PROTOCOL_ERROR,
                        "truncated frame: " + what + " needs " + bytes + " bytes, " + buf.readableBytes() + " left");
            }
        }

        int u8() {
            need(1, "u8");
            return buf.readUnsignedByte();
        }

        boolean bool() {
            int value = u8();
            if (value > 1) {
                throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "boolean " + value + " (expected: 0 or 1)");
            }
            return value == 1;
        }

        int u16() {
            need(2, "u16");
            return buf.readUnsignedShort();
        }

        int i32() {
            need(4, "i32");
            return buf.readInt();
        }

        long i64() {
            need(8, "i64");
            return buf.readLong();
        }

        String string() {
            return string(false);
        }

        /** @param headerName a header field's name: a common one is shared, not decoded again */
        private String string(boolean headerName) {
            int length = u16();
            if (length > limits.maxStringBytes()) {
                throw new ProtocolException(
                        CloseCode.FRAME_TOO_LARGE,
                        "string of " + length + " bytes (expected: <= " + limits.maxStringBytes() + ")");
            }
            need(length, "string");
            // one bulk copy, then arrays: see CommonHeaderNames.lookup
            byte[] bytes = new byte[length];
            buf.readBytes(bytes);
            String value = headerName ? CommonHeaderNames.lookup(bytes) : null;
            return value != null ? value : new String(bytes, StandardCharsets.UTF_8);
        }

        List<Header> headers() {
            int count = u16();
            if (count > limits.maxHeaderCount()) {
                throw new ProtocolException(
                        CloseCode.FRAME_TOO_LARGE,
                        count + " header fields (expected: <= " + limits.maxHeaderCount() + ")");
            }
            List<Header> headers = new ArrayList<>(count);
            int total = 0;
            for (int i = 0; i < count; i++) {
                int start = buf.readerIndex();
                String name = string(true);
                String value = string();
                // encoded bytes, not chars: the limit is on what the peer makes us hold
                total += buf.readerIndex() - start - 4;
                if (total > limits.maxHeaderBytes()) {
                    throw new ProtocolException(
                            CloseCode.FRAME_TOO_LARGE,
                            "header block over " + limits.maxHeaderBytes() + " bytes (expected: <= "
                                    + limits.maxHeaderBytes() + ")");
                }
                headers.add(new Header(name, value));
            }
            return headers;
        }
    }
}
