package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.config.TunnelProperties;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.websocket.FrameCumulation;
import io.edgetunnel.protocol.websocket.TunnelFrameEncoder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;

/**
 * The holder's end of peer links, on the cluster port at {@link LinkSettings#PATH}: an upgrade whose
 * {@link HopSignature} checks out (over {@code GET}, the request target with the link's settings, and
 * {@link LinkSettings#signedHost}, naming this replica) becomes a {@link PeerLink} in the acceptor role, each of whose
 * streams is spliced onto a local agent ({@link LinkSplice}). Anything unsigned, forged, stale, looped
 * back, signed for another replica or replayed gets 401 before any upgrade, marked like the HTTP hop's
 * refusals.
 */
final class LinkAcceptor {

    private static final Logger log = LoggerFactory.getLogger(LinkAcceptor.class);

    /** Marks the cluster port's own refusal (as {@code ForwardedRequestHandler} does for the HTTP hop). */
    static final String REFUSED_HEADER = "X-Edge-Cluster-Refused";

    private final HopSignature signature;
    private final TunnelProperties tunnel;
    private final AgentRegistry registry;
    private final String replicaId;
    private final LongAdder bufferedBytes;
    private final Counter rejected;
    private final PeerLinkCounts counts;
    private final Set<PeerLink> links = ConcurrentHashMap.newKeySet();
    /** A signature is accepted within the skew either side of its time: remembered that long after it. */
    private final SeenNonces nonces = new SeenNonces(2 * HopSignature.MAX_SKEW_MILLIS, System::currentTimeMillis);
    private volatile boolean stopping;

    LinkAcceptor(HopSignature signature, TunnelProperties tunnel, AgentRegistry registry, String replicaId,
            LongAdder bufferedBytes, MeterRegistry meters, PeerLinkCounts counts) {
        this.counts = counts;
        this.signature = signature;
        this.tunnel = tunnel;
        this.registry = registry;
        this.replicaId = replicaId;
        this.bufferedBytes = bufferedBytes;
        this.rejected = Counter.builder("tunnel.ingress.cluster.hops.rejected")
                .description("Requests refused on the cluster port: no valid replica signature")
                .register(meters);
    }

    static boolean isLink(HttpServerRequest request) {
        String uri = request.uri();
        return uri.startsWith(LinkSettings.PATH) && (uri.length() == LinkSettings.PATH.length()
                || uri.charAt(LinkSettings.PATH.length()) == '?');
    }

    Publisher<Void> admit(HttpServerRequest request, HttpServerResponse response) {
        String target = request.uri();
        if (!request.requestHeaders().containsValue("Upgrade", "websocket", true)) {
            return refuse(response, 400, "expected a WebSocket upgrade to the peer link");
        }
        String hop = request.requestHeaders().get(HopSignature.HEADER);
        String reason = signature.reject(hop, request.method().name(), target, LinkSettings.signedHost(replicaId));
        if (reason == null && !nonces.firstUse(signature.signer(hop), HopSignature.nonce(hop), HopSignature.signedAt(hop))) {
            reason = "signature replayed";
        }
        if (reason != null) {
            rejected.increment();
            log.warn("Cluster port: refused a peer link from {}: {}", request.remoteAddress(), reason);
            response.header(REFUSED_HEADER, "signature");
            return refuse(response, 401, "cluster port: " + reason);
        }
        LinkSettings settings;
        try {
            settings = LinkSettings.parse(target);
        } catch (IllegalArgumentException e) {
            return refuse(response, 400, "peer link settings: " + e.getMessage());
        }
        if (stopping) {
            return refuse(response, 503, "replica stopping");
        }
        String peer = signature.signer(request.requestHeaders().get(HopSignature.HEADER));
        WebsocketServerSpec spec = WebsocketServerSpec.builder()
                .maxFramePayloadLength(settings.maxFrameBytes() + PeerLink.WEBSOCKET_SLACK_BYTES)
                .build();
        return response.sendWebsocket((in, out) -> {
            AtomicReference<Connection> socket = new AtomicReference<>();
            in.withConnection(c -> {
                socket.set(c);
                TunnelFrameEncoder.install(c.channel(), false);
                FrameCumulation.install(c.channel());
            });
            PeerLink link = new PeerLink(peer, settings, tunnel, bufferedBytes, socket.get(),
                    (stream, frame) -> LinkSplice.accept(stream, frame, registry, replicaId));
            links.add(link);
            counts.holder.incrementAndGet();
            log.info("Peer link from replica {} ({}) open", peer, request.remoteAddress());
            return link.run(in, out).doFinally(signal -> {
                links.remove(link);
                counts.holder.decrementAndGet();
                log.info("Peer link from replica {} closed", peer);
            });
        }, spec);
    }

    private static Mono<Void> refuse(HttpServerResponse response, int status, String why) {
        return response.status(status)
                .header("Content-Type", "text/plain; charset=utf-8")
                .sendString(Mono.just(why + "\n"))
                .then();
    }

    /**
     * The replica stops: no new links; each link drains (the senders open no new streams on it) and
     * closes once its streams finished, or at {@code deadline} (System.nanoTime) at the latest. Called
     * on a lifecycle thread, never an event loop.
     */
    void stop(long deadlineNanos) {
        stopping = true;
        links.forEach(link -> link.drain("replica stopping"));
        while (links.stream().anyMatch(link -> !link.isClosing()) && System.nanoTime() < deadlineNanos) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        links.forEach(link -> link.close(CloseCode.GOING_AWAY, "replica stopping"));
    }

    /** Links open now (for tests and the listing). */
    int openLinks() {
        return links.size();
    }
}
