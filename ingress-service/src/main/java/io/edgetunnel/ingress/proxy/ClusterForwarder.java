package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.cluster.HopSignature;
import io.edgetunnel.ingress.cluster.RemoteReplica;
import io.edgetunnel.ingress.cluster.RemoteRoutes;
import io.edgetunnel.ingress.config.ProxyProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ConnectTimeoutException;
import io.netty.util.ReferenceCounted;
import java.net.ConnectException;
import java.nio.channels.NotYetConnectedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;
import reactor.netty.http.client.PrematureCloseException;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Sends a public request to another replica that holds its route, over that replica's cluster port,
 * and streams the answer back: the request body as the client sends it, the response as the other
 * replica writes it, each side's backpressure reaching the other. Holders are picked round-robin. A
 * holder that cannot be reached, or that answers it holds no agent after all (a stale directory entry),
 * is replaced by another once, as long as no byte of the request body has left; after that the rules
 * for a lost agent apply.
 */
public final class ClusterForwarder {

    private static final Logger log = LoggerFactory.getLogger(ClusterForwarder.class);

    /** Slack over the other replica's own response timeout, which answers 504 first. */
    private static final Duration HEADERS_SLACK = Duration.ofSeconds(5);

    private static final Object HEADERS_SEEN = new Object();

    private final RemoteRoutes routes;
    private final HopSignature signature;
    private final HttpClient client;
    private final ProxyProperties properties;
    private final IngressMetrics metrics;
    private final ClusterWebSocketRelay websockets;

    public ClusterForwarder(RemoteRoutes routes, HopSignature signature, HttpClient client, ProxyProperties properties,
            IngressMetrics metrics, OpenWebSockets open) {
        this.routes = routes;
        this.signature = signature;
        this.client = client;
        this.properties = properties;
        this.metrics = metrics;
        this.websockets = new ClusterWebSocketRelay(client, properties.websocket(), open);
    }

    RouteEntry<Tunnel> match(String host, String path) {
        return routes.match(host, path);
    }

    boolean recentlyVacated(String host, String path) {
        return routes.recentlyVacated(host, path, System.nanoTime());
    }

    /** Marks a forwarded request's 503 that says the holder had no agent for it. */
    private static final class NoHolder extends RuntimeException {
        NoHolder() {
            super("no holder", null, false, false);
        }
    }

    Mono<Void> forward(PublicRequest request, RouteEntry<Tunnel> holders, Supplier<Flux<ByteBuf>> body) {
        return attempt(request, holders, body, null, true);
    }

    private Mono<Void> attempt(PublicRequest request, RouteEntry<Tunnel> holders, Supplier<Flux<ByteBuf>> body,
            Tunnel excluded, boolean mayRetry) {
        Tunnel picked = holders.pick(excluded);
        if (!(picked instanceof RemoteReplica peer)) {
            return Mono.error(ProxyException.noAgent(request.host()));
        }
        AccessRecord access = request.access();
        access.agentId = "replica:" + peer.id();
        access.forwarded = true;
        String hop = signature.sign(request.method(), request.target(), request.rawHost());
        AtomicBoolean bodyTaken = new AtomicBoolean();
        AtomicBoolean answered = new AtomicBoolean();
        Mono<Void> exchange;
        if (request.websocket()) {
            exchange = websockets.relay(request, peer, hop).onErrorMap(ClusterWebSocketRelay.NoHolder.class, e -> new NoHolder());
        } else {
            exchange = client
                    .request(io.netty.handler.codec.http.HttpMethod.valueOf(request.method()))
                    .uri(peer.baseUri() + request.target())
                    .send((req, out) -> {
                        // the header block exactly as for an agent, in place of the client's defaults (set
                        // per request here: a per-request HttpClient.headers(...) copies the client's config)
                        io.netty.handler.codec.http.HttpHeaders headers = req.requestHeaders();
                        headers.clear();
                        for (Header header : request.headers()) {
                            headers.add(header.name(), header.value());
                        }
                        headers.set(HopSignature.HEADER, hop);
                        if (request.hasBody() && !headers.contains(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH)) {
                            // the client's framing is hop-by-hop and was stripped: this hop frames the body itself
                            headers.set(io.netty.handler.codec.http.HttpHeaderNames.TRANSFER_ENCODING,
                                    io.netty.handler.codec.http.HttpHeaderValues.CHUNKED);
                        }
                        return request.hasBody()
                                ? out.send(body.get().doOnSubscribe(s -> bodyTaken.set(true)))
                                : Mono.empty();
                    })
                    .response((res, in) -> {
                        answered.set(true);
                        return respond(request, res, in);
                    })
                    .timeout(Mono.delay(properties.responseTimeout().plus(HEADERS_SLACK), EventLoopSchedulers.current()),
                            next -> Mono.never())
                    .then();
        }
        return exchange.onErrorResume(error -> afterError(error, request, holders, body, peer,
                mayRetry && !bodyTaken.get(), answered.get()));
    }

    private Mono<Void> afterError(Throwable error, PublicRequest request, RouteEntry<Tunnel> holders,
            Supplier<Flux<ByteBuf>> body, RemoteReplica peer, boolean mayRetry, boolean answered) {
        ServerHttpResponse response = request.exchange().getResponse();
        if (response.isCommitted()) {
            return Mono.error(error);
        }
        boolean unreachable = notConnected(error) || notConnected(error.getCause())
                || (!answered && closedBeforeAnswer(error, request));
        if (error instanceof NoHolder || unreachable) {
            if (unreachable) {
                log.warn("Cluster: replica {} unreachable ({}); {}", peer, error.toString(),
                        mayRetry ? "trying another holder" : "giving up");
            }
            if (mayRetry) {
                return attempt(request, holders, body, peer, false);
            }
            return Mono.error(ProxyException.noAgent(request.host()));
        }
        if (error instanceof ProxyException || error instanceof StreamFailure) {
            return Mono.error(error);
        }
        if (error instanceof TimeoutException) {
            return Mono.error(ProxyException.timeout());
        }
        log.debug("Cluster: forwarding to {} failed: {}", peer, error.toString());
        return Mono.error(ProxyException.badGateway("replica " + peer.id() + " lost"));
    }

    /**
     * The connection never carried the request: refused, timed out, or failed while connecting (epoll
     * reports a connect that a reset ended as "not yet connected" when it reads first).
     */
    private static boolean notConnected(Throwable error) {
        return error instanceof ConnectException || error instanceof ConnectTimeoutException
                || error instanceof NotYetConnectedException;
    }

    /**
     * A pooled connection closed before any answer: the peer closed it as we reused it, or stopped.
     * A request without a body whose method is idempotent may be sent again (RFC 9110, section 9.2.2).
     */
    private static boolean closedBeforeAnswer(Throwable error, PublicRequest request) {
        if (!(error instanceof PrematureCloseException) || request.hasBody()) {
            return false;
        }
        return switch (request.method()) {
            case "GET", "HEAD", "OPTIONS", "TRACE" -> true;
            default -> false;
        };
    }

    private Flux<Object> respond(PublicRequest request, HttpClientResponse res, ByteBufFlux in) {
        if (res.status().code() == 503 && res.responseHeaders().contains(ProxyHandler.HOLDER_HEADER)) {
            return in.then(Mono.<Object>error(new NoHolder())).flux();
        }
        if (res.status().code() == 401 && res.responseHeaders().contains(ForwardedRequestHandler.REFUSED_HEADER)) {
            // the other replica refused our signature (another secret, a clock far off): the client
            // gets a gateway error, never the cluster port's own answer
            log.warn("Cluster: replica {} refused this replica's signature; is ingress.cluster.secret the same on both?",
                    request.access().agentId());
            return in.then(Mono.<Object>error(ProxyException.badGateway("replica refused the forwarded request"))).flux();
        }
        ServerHttpResponse response = request.exchange().getResponse();
        response.setStatusCode(HttpStatusCode.valueOf(res.status().code()));
        List<Header> received = new ArrayList<>();
        for (Map.Entry<String, String> header : res.responseHeaders()) {
            received.add(new Header(header.getKey(), header.getValue()));
        }
        for (Header header : ForwardedHeaders.forResponse(received)) {
            response.getHeaders().add(header.name(), header.value());
        }
        if (!(response.bufferFactory() instanceof NettyDataBufferFactory factory)) {
            return in.then(Mono.<Object>error(new IllegalStateException("public server is not Reactor Netty"))).flux();
        }
        AtomicReference<List<Header>> trailers = new AtomicReference<>(List.of());
        HttpServerResponse nativeResponse = ExchangeSupport.nativeResponse(response);
        if (nativeResponse != null) {
            res.trailerHeaders().subscribe(headers -> {
                List<Header> list = new ArrayList<>();
                headers.forEach(h -> list.add(new Header(h.getKey(), h.getValue())));
                trailers.set(list);
            }, error -> {});
            nativeResponse.trailerHeaders(out -> ResponseTrailers.copy(trailers.get(), out));
        }
        AccessRecord access = request.access();
        Flux<DataBuffer> body = in.retain().<DataBuffer>map(buf -> {
                    metrics.responseBytes(buf.readableBytes());
                    access.responseBytes.addAndGet(buf.readableBytes());
                    return factory.wrap(buf);
                })
                .doOnDiscard(ByteBuf.class, ReferenceCounted::release)
                .doOnDiscard(DataBuffer.class, DataBufferUtils::release);
        Mono<Void> write = body.switchOnFirst((first, rest) -> first.isOnComplete()
                        ? response.setComplete()
                        : response.writeWith(rest))
                // switchOnFirst drops the first chunk when the exchange is cancelled before the write
                // took it, into the discard hook of its own (downstream) context: release it there
                .doOnDiscard(DataBuffer.class, DataBufferUtils::release)
                .then()
                .onErrorResume(error -> {
                    if (response.isCommitted()) {
                        ExchangeSupport.abortConnection(response);
                    }
                    return Mono.error(error);
                });
        return Flux.concat(Mono.just(HEADERS_SEEN), write.then(Mono.empty()));
    }
}
