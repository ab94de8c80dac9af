package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.tunnel.TunnelSession;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HostNames;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.TcpRoutes;
import io.edgetunnel.protocol.session.StreamEnd;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.OutboundBody;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The holder's end of one forwarded stream: the peer link's stream spliced onto a stream on one of this
 * replica's agents' tunnels, frame for frame. The REQUEST goes on with this replica's own route claim;
 * each direction's body is relayed as the receiving side's consumer takes it (the link's credit goes back
 * only once the agent's socket took the bytes, and the other way round), so a stream holds at most a
 * window per direction here; END_STREAM, trailers and resets cross as they come. Nothing is decoded as
 * HTTP, which is why a TCP connection (protocol section 20) and a WebSocket (section 19, relayed as
 * records, never split) splice the same way. A link stream is served by local agents only: it is never
 * forwarded again.
 */
final class LinkSplice {

    private final TunnelStream link;
    private final Frame.Request request;
    private final RouteEntry<Tunnel> entry;
    /** A WebSocket upgrade: bodies are records, one DATA frame each. */
    private final boolean upgrade;
    private final AtomicBoolean completed = new AtomicBoolean();

    private volatile AgentSide agent;
    private volatile List<Header> requestTrailers = List.of();
    /** Everything of the link's direction reached the agent's tunnel (or there was nothing). */
    private volatile boolean requestRelayed;
    /** Everything of the agent's direction went out on the link. */
    private volatile boolean responseRelayed;

    private LinkSplice(TunnelStream link, Frame.Request request, RouteEntry<Tunnel> entry) {
        this.link = link;
        this.request = request;
        this.entry = entry;
        this.upgrade = upgradeRequested(request.headers());
    }

    /**
     * A stream arrived on a peer link (on its event loop): route it here, or reset it so the sender
     * can try another holder ({@code REFUSED_STREAM}: no agent may take it; {@code NO_ROUTE}: no route).
     */
    static void accept(TunnelStream link, Frame.Request request, AgentRegistry registry, String replicaId) {
        boolean tcp = TcpRoutes.METHOD.equals(request.method()) && TcpRoutes.isTcp(request.routeHost());
        String host = tcp ? request.routeHost() : HostNames.normalise(hostOf(request.headers()));
        RouteEntry<Tunnel> entry = host == null || (!tcp && TcpRoutes.isTcp(host)) ? null
                : registry.match(host, tcp ? "/" : pathOf(request.target()));
        if (entry == null) {
            link.reset(ResetCode.NO_ROUTE, "no route for " + host + " on replica " + replicaId);
            return;
        }
        LinkSplice splice = new LinkSplice(link, request, entry);
        link.accept(splice.new LinkSide());
        splice.open(null, true);
    }

    /** Opens the agent's stream on a local tunnel; when none takes it, the link's stream is refused. */
    private void open(Tunnel excluded, boolean mayRetry) {
        Tunnel picked = entry.pick(excluded);
        if (!(picked instanceof TunnelSession tunnel)) {
            link.reset(ResetCode.REFUSED_STREAM, "no agent for " + entry.route() + " can take it here");
            return;
        }
        RouteClaim route = entry.route();
        AgentSide side = new AgentSide(tunnel, mayRetry);
        TunnelStream opened = tunnel.openStream(
                id -> new Frame.Request(id, request.method(), request.target(), route.host(), route.pathPrefix(),
                        request.headers(), request.endStream()),
                stream -> {
                    side.stream = stream;
                    agent = side; // before any callback can come
                    return side;
                });
        if (opened == null) {
            if (mayRetry) {
                open(tunnel, false);
            } else {
                link.reset(ResetCode.REFUSED_STREAM, "no agent for " + route + " can take it here");
            }
        } else if (link.isEnded()) {
            // the link's stream ended while this was opening (a retry runs on the agent's loop)
            opened.reset(ResetCode.CANCEL, "forwarded stream ended");
        }
    }

    /** Both directions crossed whole: both streams end without a reset. */
    private void maybeComplete() {
        if (requestRelayed && responseRelayed && completed.compareAndSet(false, true)) {
            AgentSide current = agent;
            if (current != null) {
                current.stream.complete();
            }
            link.complete();
        }
    }

    private OutboundBody.Listener relayed(Runnable done, TunnelStream other) {
        return new OutboundBody.Listener() {
            @Override
            public void onComplete() {
                done.run();
                maybeComplete();
            }

            @Override
            public void onError(Throwable cause) {
                link.reset(ResetCode.CANCEL, "relay failed: " + cause.getMessage());
                other.reset(ResetCode.CANCEL, "relay failed: " + cause.getMessage());
            }
        };
    }

    /** The agent's stream: its answer goes back on the link. */
    private final class AgentSide implements StreamHandler {

        private final TunnelSession tunnel;
        private final boolean mayRetry;
        private volatile TunnelStream stream;
        private volatile boolean started;
        private volatile List<Header> trailers = List.of();

        AgentSide(TunnelSession tunnel, boolean mayRetry) {
            this.tunnel = tunnel;
            this.mayRetry = mayRetry;
        }

        /** The REQUEST is queued: the link's body follows it, within the agent's window. */
        @Override
        public void onStarted() {
            started = true;
            if (link.inbound() == null) {
                requestRelayed = true;
                return;
            }
            OutboundBody.Listener listener = relayed(() -> requestRelayed = true, link);
            OutboundBody out = upgrade ? stream.newRecordBody(listener)
                    : stream.newBody(listener, () -> requestTrailers);
            link.inbound().subscribe(out);
        }

        @Override
        public void onResponse(Frame.Response response) {
            link.sendHeaders(new Frame.Response(link.id(), response.status(), response.headers(), response.endStream()));
            if (response.endStream()) {
                responseRelayed = true;
                maybeComplete();
                return;
            }
            OutboundBody.Listener listener = relayed(() -> responseRelayed = true, stream);
            OutboundBody out = upgrade && response.status() == 101 ? link.newRecordBody(listener)
                    : link.newBody(listener, () -> trailers);
            stream.inbound().subscribe(out);
        }

        @Override
        public void onTrailers(List<Header> fields) {
            trailers = fields; // before the body completes, so the link's body ends with them
        }

        @Override
        public void onEnd(StreamEnd end) {
            stream.releaseBodies();
            if (end instanceof StreamEnd.PeerReset reset) {
                link.reset(reset.code(), reset.message());
            } else if (end instanceof StreamEnd.LocalReset reset) {
                link.reset(reset.code(), reset.message());
            } else if (end instanceof StreamEnd.TunnelClosed closed) {
                if (!closed.sent() && !started && mayRetry && !link.isEnded()) {
                    open(tunnel, false); // nothing of it reached the agent: as if not picked
                } else {
                    link.reset(closed.sent() ? ResetCode.INTERNAL_ERROR : ResetCode.REFUSED_STREAM,
                            "agent tunnel " + (closed.sent() ? "lost" : "closed") + " on the holder");
                }
            }
        }
    }

    /** The link's stream: its end, if abnormal, ends the agent's. */
    private final class LinkSide implements StreamHandler {

        @Override
        public void onTrailers(List<Header> fields) {
            requestTrailers = fields;
        }

        @Override
        public void onEnd(StreamEnd end) {
            link.releaseBodies();
            AgentSide current = agent;
            if (current == null || end instanceof StreamEnd.Completed) {
                return;
            }
            if (end instanceof StreamEnd.PeerReset reset) {
                current.stream.reset(reset.code(), reset.message());
            } else {
                current.stream.reset(ResetCode.CANCEL, end instanceof StreamEnd.TunnelClosed
                        ? "peer link lost" : "forwarded stream ended");
            }
        }
    }

    private static String hostOf(List<Header> headers) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase("Host")) {
                return header.value();
            }
        }
        return null;
    }

    private static String pathOf(String target) {
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        return path.isEmpty() ? "/" : path;
    }

    private static boolean upgradeRequested(List<Header> headers) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase("Upgrade") && header.value().trim().equalsIgnoreCase("websocket")) {
                return true;
            }
        }
        return false;
    }
}
