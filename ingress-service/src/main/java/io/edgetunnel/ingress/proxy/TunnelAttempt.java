package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.cluster.PeerLink;
import io.edgetunnel.ingress.cluster.PeerLinks;
import io.edgetunnel.ingress.cluster.RemoteReplica;
import io.edgetunnel.ingress.config.ProxyProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.tunnel.StreamOpener;
import io.edgetunnel.ingress.tunnel.TunnelSession;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

/**
 * One request on a tunnel of this replica, or, when {@code entry} holds other replicas, on the peer
 * link to one of them (the same stream; the holder splices it onto its agent); retried once elsewhere
 * when no byte of it was processed. When no local tunnel can take it, {@code elsewhere} (forwarding to
 * another replica holding the same route) gets it, if there is one.
 */
final class TunnelAttempt {

    private static final Logger log = LoggerFactory.getLogger(TunnelAttempt.class);

    private final PublicRequest request;
    private final RouteEntry<Tunnel> entry;
    private final Supplier<Flux<ByteBuf>> body;
    private final Supplier<Mono<Void>> elsewhere;
    private final ProxyProperties properties;
    private final IngressMetrics metrics;
    private final WebSocketBridge websockets;
    /** Null unless {@code entry} is the other replicas'. */
    private final PeerLinks links;
    /** The tunnel or replica the current try went to; a retry excludes it. */
    private volatile Tunnel picked;

    TunnelAttempt(PublicRequest request, RouteEntry<Tunnel> entry, Supplier<Flux<ByteBuf>> body, Supplier<Mono<Void>> elsewhere,
            ProxyProperties properties, IngressMetrics metrics, WebSocketBridge websockets) {
        this(request, entry, body, elsewhere, properties, metrics, websockets, null);
    }

    TunnelAttempt(PublicRequest request, RouteEntry<Tunnel> entry, Supplier<Flux<ByteBuf>> body, Supplier<Mono<Void>> elsewhere,
            ProxyProperties properties, IngressMetrics metrics, WebSocketBridge websockets, PeerLinks links) {
        this.links = links;
        this.request = request;
        this.entry = entry;
        this.body = body;
        this.elsewhere = elsewhere;
        this.properties = properties;
        this.metrics = metrics;
        this.websockets = websockets;
    }

    Mono<Void> run(Tunnel excluded, boolean mayRetry) {
        Tunnel next = entry.pick(excluded);
        picked = next;
        AccessRecord access = request.access();
        if (next instanceof TunnelSession tunnel) {
            access.agentId = tunnel.agentId();
            return open(tunnel, mayRetry);
        }
        if (next instanceof RemoteReplica peer && links != null) {
            access.agentId = "replica:" + peer.id();
            access.forwarded = true;
            PeerLink link = links.ready(peer);
            if (link != null) {
                return open(link, mayRetry);
            }
            return links.link(peer)
                    .map(Optional::of)
                    .onErrorResume(PeerLinks.Unreachable.class, unreachable -> {
                        // PeerLinks logged the failed dial; requests meanwhile fail fast and quietly
                        log.debug("Cluster: {}; {}", unreachable.getMessage(), mayRetry ? "trying another holder" : "giving up");
                        return Mono.just(Optional.empty());
                    })
                    // a refused signature carried nothing either (another secret, or an entry naming a replica
                    // that is not the one at that address any more, such as a loop back to this one): as
                    // an unreachable holder, another one once, else no holder (PeerLinks logged why)
                    .onErrorResume(PeerLinks.Refused.class, refused -> Mono.just(Optional.empty()))
                    .flatMap(opened -> opened.isPresent() ? open(opened.get(), mayRetry)
                            : mayRetry ? run(peer, false) : Mono.error(ProxyException.noAgent(request.host())));
        }
        return noLocalAgent();
    }

    private Mono<Void> open(StreamOpener tunnel, boolean mayRetry) {
        RouteClaim route = entry.route();
        boolean hasBody = request.hasBody();
        boolean websocket = request.websocket();
        ProxyStream stream = ProxyStream.open(tunnel,
                id -> new Frame.Request(id, request.method(), request.target(), route.host(), route.pathPrefix(),
                        request.headers(), !hasBody && !websocket),
                hasBody && !websocket ? body : null,
                websocket);
        if (stream == null) {
            // the tunnel closed or filled up since the pick: nothing went out, try another once
            return mayRetry ? run(picked, false) : noLocalAgent();
        }
        // a timer of the stream's own, not Mono.timeout: that one names its source for the message at
        // every assembly, and its operators and delay Mono were a good part of a request's allocations
        stream.expireResponseAfter(properties.responseTimeout(), EventLoopSchedulers.current());
        return stream.response()
                .onErrorResume(TimeoutException.class, e -> {
                    stream.cancel("no response within " + properties.responseTimeout());
                    return Mono.error(ProxyException.timeout());
                })
                .onErrorResume(StreamFailure.class, failure -> beforeHeaders(failure, stream, mayRetry))
                .flatMap(response -> respond(stream, response))
                .doOnCancel(() -> stream.cancel("client went away"));
    }

    private Mono<Void> noLocalAgent() {
        return elsewhere != null ? elsewhere.get() : Mono.error(ProxyException.noAgent(request.host()));
    }

    private Mono<Frame.Response> beforeHeaders(StreamFailure failure, ProxyStream stream, boolean mayRetry) {
        if (failure.kind() == StreamFailure.Kind.NOT_SENT) {
            // nothing of it reached the agent (its tunnel closed or began draining first): as if not picked
            return (mayRetry ? run(picked, false) : noLocalAgent()).then(Mono.empty());
        }
        if (failure.kind() == StreamFailure.Kind.RESET && refused(failure.resetCode())
                && mayRetry && !request.hasBody() && !stream.dataSent()) {
            // the agent (or the holder, having no agent for it) refused it before doing anything: safe to
            // try another tunnel once
            return run(picked, false).then(Mono.empty());
        }
        return Mono.error(problemFor(failure));
    }

    /** A reset that says the stream was not processed: refused, or (by a holder) not held after all. */
    private boolean refused(ResetCode code) {
        return code == ResetCode.REFUSED_STREAM || (links != null && code == ResetCode.NO_ROUTE);
    }

    /** The answer for a stream that failed while nothing of its response had reached the client. */
    private Throwable problemFor(StreamFailure failure) {
        return switch (failure.kind()) {
            case RESET -> switch (failure.resetCode()) {
                case UPSTREAM_TIMEOUT -> ProxyException.timeout();
                case BODY_TOO_LARGE -> properties.bodyLimited()
                        ? ProxyException.tooLarge(properties.maxRequestBodyBytes())
                        : ProxyException.tooLargeForRoute();
                case REFUSED_STREAM -> ProxyException.noAgent(request.host());
                // only a holder says so: its directory entry was stale
                case NO_ROUTE -> links != null ? ProxyException.noAgent(request.host())
                        : ProxyException.badGateway("agent answered " + failure.resetCode());
                default -> ProxyException.badGateway("agent answered " + failure.resetCode());
            };
            case TUNNEL_LOST -> ProxyException.badGateway("agent connection lost");
            case NOT_SENT -> ProxyException.noAgent(request.host());
            case BODY_TOO_LARGE -> ProxyException.tooLarge(properties.maxRequestBodyBytes());
            case CLIENT_ABORT -> failure;
        };
    }

    private Mono<Void> respond(ProxyStream stream, Frame.Response agentFrame) {
        ServerHttpResponse response = request.exchange().getResponse();
        Frame.Response frame = withOwnCookies(agentFrame);
        if (frame.status() == 101) {
            if (!request.websocket() || frame.endStream()) {
                stream.reset(ResetCode.PROTOCOL_ERROR, "101 without a WebSocket upgrade");
                return Mono.error(ProxyException.badGateway("agent answered 101 to a request that is no upgrade"));
            }
            return websockets.upgrade(request.exchange(), request.host(), stream, frame,
                    WebSocketUpgrade.offeredProtocols(request.exchange().getRequest().getHeaders()), request.access());
        }
        long declared;
        try {
            declared = bodyExpected(frame.status()) ? DeclaredLength.of(frame.headers()) : DeclaredLength.NONE;
        } catch (ProxyException e) {
            stream.reset(ResetCode.PROTOCOL_ERROR, "invalid Content-Length");
            stream.body().discard(); // the stream may have completed already: then the reset did not free it
            return Mono.error(e);
        }
        if (frame.endStream() && declared > 0) {
            return Mono.error(problemFor(DeclaredLength.mismatch("shorter than", declared)));
        }
        response.setStatusCode(HttpStatusCode.valueOf(frame.status()));
        HttpHeaders out = response.getHeaders();
        for (Header header : ForwardedHeaders.forResponse(frame.headers())) {
            out.add(header.name(), header.value());
        }
        if (frame.endStream()) {
            return response.setComplete();
        }
        if (!(response.bufferFactory() instanceof NettyDataBufferFactory factory)) {
            stream.cancel("unsupported server");
            return Mono.error(new IllegalStateException("public server is not Reactor Netty"));
        }
        AccessRecord access = request.access();
        HttpServerResponse nativeResponse = ExchangeSupport.nativeResponse(response);
        if (nativeResponse != null) {
            // asked by Reactor Netty when the body has ended, which is after any Trailers frame arrived
            nativeResponse.trailerHeaders(trailers -> ResponseTrailers.copy(stream.trailers(), trailers));
        }
        AtomicBoolean bodyStarted = new AtomicBoolean();
        Flux<DataBuffer> body = DeclaredLength.enforce(Flux.from(stream.body()), declared, stream).<DataBuffer>map(buf -> {
            bodyStarted.set(true);
            metrics.responseBytes(buf.readableBytes());
            access.responseBytes.addAndGet(buf.readableBytes());
            return factory.wrap(buf);
        }).concatWith(Mono.defer(() -> {
            // a body that ends before any byte is written becomes a headers-only response, which has
            // no trailer section: an empty chunk sends the headers first so the trailers can follow
            if (bodyStarted.get() || stream.trailers().isEmpty()) {
                return Mono.empty();
            }
            return Mono.<DataBuffer>just(factory.wrap(Unpooled.EMPTY_BUFFER));
        }));
        // the body can fail before its first byte is written: then nothing is committed yet and the
        // client still gets a proper 502/504 instead of a generic 500 or an abort.
        // A body that turns out empty (and has no trailers) is answered headers-only, as the app did:
        // over HTTP/2 that is one HEADERS frame with END_STREAM, which gRPC's trailers-only error
        // responses need (headers then an empty DATA frame would read as a missing status)
        return body.switchOnFirst((first, rest) -> {
                    if (first.isOnComplete()) {
                        return response.setComplete();
                    }
                    if (first.hasValue() && isWholeBody(first.get(), declared, stream)) {
                        // the whole body, of its declared length, in one chunk: written with the headers as
                        // one message, without the streaming writer's queues (issue 18); the same bytes
                        return response.writeWith(rest.singleOrEmpty());
                    }
                    return response.writeWith(rest);
                })
                // switchOnFirst drops the first chunk when the exchange is cancelled before the write
                // took it, into the discard hook of its own (downstream) context: release it there
                .doOnDiscard(DataBuffer.class, DataBufferUtils::release)
                .then()
                .onErrorResume(StreamFailure.class, failure -> {
                    if (!response.isCommitted()) {
                        return Mono.error(problemFor(failure));
                    }
                    ExchangeSupport.abortConnection(response);
                    return Mono.error(failure);
                })
                // once the exchange ended, however, nobody reads the body any more: what a completed
                // stream still queued (an error before the body was subscribed) is released
                .doFinally(signal -> stream.body().discard());
    }

    /**
     * Whether {@code first} is all of the body: the agent's body ended with it (nothing queued after it,
     * no trailers) and it has the declared length, so Reactor Netty's one-message write adds no header.
     */
    private static boolean isWholeBody(DataBuffer first, long declared, ProxyStream stream) {
        return declared >= 0 && first.readableByteCount() == declared && stream.body().isFinished()
                && stream.trailers().isEmpty();
    }

    /** HEAD, 1xx, 204 and 304 answers have no body, whatever their Content-Length says. */
    private boolean bodyExpected(int status) {
        return !"HEAD".equalsIgnoreCase(request.method()) && status >= 200 && status != 204 && status != 304;
    }

    /** The agent's response with its cookies kept to the route's hosts. */
    private Frame.Response withOwnCookies(Frame.Response frame) {
        java.util.List<Header> headers = SetCookieDomains.restrict(frame.headers(), entry.route(), request.host(),
                properties.cookieDomains());
        return headers == frame.headers() ? frame
                : new Frame.Response(frame.streamId(), frame.status(), headers, frame.endStream());
    }
}
