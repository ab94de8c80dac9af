package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.config.ProxyProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.security.policy.TrustedProxies;
import io.edgetunnel.ingress.security.policy.TrustedProxiesProperties;
import io.edgetunnel.ingress.tunnel.TunnelSession;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HostNames;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCounted;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebHandler;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Every public request: Host → route → tunnel stream → the agent's response, streamed both ways.
 * Failures before response headers become problem answers (400/404/413/502/503/504); failures after
 * them error the response body so the client connection is aborted, never cleanly truncated.
 */
@Component
public final class ProxyHandler implements WebHandler {

    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    private final AgentRegistry registry;
    private final ProxyProperties properties;
    private final IngressMetrics metrics;
    private final TrustedProxies trustedProxies;
    private final WebSocketBridge websockets;

    public ProxyHandler(AgentRegistry registry, ProxyProperties properties, IngressMetrics metrics,
            TrustedProxiesProperties trustedProxies) {
        this.registry = registry;
        this.properties = properties;
        this.metrics = metrics;
        this.trustedProxies = TrustedProxies.of(trustedProxies.trustedProxies());
        this.websockets = new WebSocketBridge(properties.websocket(), metrics);
    }

    /** Per-request bookkeeping for the metrics. */
    private static final class Exchange {
        final long startNanos = System.nanoTime();
        volatile String route = IngressMetrics.UNMATCHED;
        /** Also holds the outcome, set before the access log's doFinally runs. */
        final AccessRecord access = new AccessRecord();
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange) {
        Exchange state = new Exchange();
        exchange.getAttributes().put(AccessRecord.ATTRIBUTE, state.access);
        return Mono.defer(() -> proxy(exchange, state))
                .doOnSuccess(v -> {
                    if (state.access.outcome == null) {
                        state.access.outcome = ProxyException.Outcome.OK;
                    }
                })
                .onErrorResume(ProxyException.class, problem -> {
                    state.access.outcome = problem.outcome();
                    return ProblemResponses.write(exchange.getResponse(), problem, properties.retryAfter());
                })
                .doOnError(error -> {
                    if (state.access.outcome == null) {
                        state.access.outcome = error instanceof StreamFailure f && f.kind() == StreamFailure.Kind.CLIENT_ABORT
                                ? ProxyException.Outcome.CLIENT_ABORT : ProxyException.Outcome.AGENT_ERROR;
                    }
                    log.debug("request_id={} aborting public response to {}: {}",
                            exchange.getRequest().getHeaders().getFirst("X-Request-Id"), exchange.getRequest().getURI(),
                            error.toString());
                })
                .doFinally(signal -> record(exchange, state, signal));
    }

    private void record(ServerWebExchange exchange, Exchange state, SignalType signal) {
        String outcome = state.access.outcome;
        if (outcome == null || signal == SignalType.CANCEL) {
            outcome = ProxyException.Outcome.CLIENT_ABORT;
        }
        HttpStatusCode status = exchange.getResponse().getStatusCode();
        int code = status == null ? 200 : status.value();
        if (signal == SignalType.CANCEL && status == null) {
            code = 499;
        } else if (signal == SignalType.ON_ERROR && !exchange.getResponse().isCommitted()) {
            code = 502;
        }
        state.access.outcome = outcome;
        metrics.request(state.route, code, outcome, System.nanoTime() - state.startNanos);
    }

    private Mono<Void> proxy(ServerWebExchange exchange, Exchange state) {
        ServerHttpRequest request = exchange.getRequest();
        List<Header> received = receivedHeaders(request);
        String rawHost = null;
        int hostCount = 0;
        for (Header header : received) {
            if (header.name().equalsIgnoreCase(HttpHeaders.HOST)) {
                rawHost = header.value();
                hostCount++;
            }
        }
        if (hostCount != 1) {
            throw ProxyException.badRequest(hostCount == 0 ? "missing Host header" : "more than one Host header");
        }
        String host = HostNames.normalise(rawHost);
        if (host == null) {
            throw ProxyException.badRequest("malformed Host header");
        }
        String path = request.getURI().getRawPath();
        if (path == null || path.isEmpty()) {
            path = "/";
        }
        RouteEntry entry = registry.match(host, path);
        if (entry == null) {
            throw ProxyException.noRoute(host);
        }
        state.route = entry.route().toString();

        HttpHeaders headers = request.getHeaders();
        long contentLength = headers.getContentLength();
        boolean chunked = headers.containsHeader(HttpHeaders.TRANSFER_ENCODING);
        if (properties.bodyLimited() && contentLength > properties.maxRequestBodyBytes()) {
            throw ProxyException.tooLarge(properties.maxRequestBodyBytes());
        }
        boolean websocket = WebSocketUpgrade.requested(request);
        if (websocket) {
            WebSocketUpgrade.check(headers);
        }
        boolean hasBody = !websocket && (contentLength > 0 || chunked);

        InetSocketAddress remote = request.getRemoteAddress();
        InetSocketAddress local = request.getLocalAddress();
        String peer = remote == null ? null : (remote.getAddress() == null ? remote.getHostString()
                : remote.getAddress().getHostAddress());
        List<Header> forwarded = ForwardedHeaders.forRequest(
                received,
                peer,
                peer != null && trustedProxies.trusted(peer),
                "http",
                rawHost,
                local == null ? 0 : local.getPort());
        String rawQuery = request.getURI().getRawQuery();
        String target = rawQuery == null ? path : path + "?" + rawQuery;
        if (websocket) {
            forwarded = WebSocketUpgrade.requestHeaders(forwarded);
        }
        Attempt attempt = new Attempt(exchange, entry, host, request.getMethod().name(), target, forwarded, hasBody,
                websocket);
        return attempt.run(null, true);
    }

    /** One try of a request on one tunnel; retried once elsewhere when no byte of it was processed. */
    private final class Attempt {
        final ServerWebExchange exchange;
        final RouteEntry entry;
        final String host;
        final String method;
        final String target;
        final List<Header> headers;
        final boolean hasBody;
        /** A WebSocket upgrade: its request direction stays open for records after a 101. */
        final boolean websocket;

        Attempt(ServerWebExchange exchange, RouteEntry entry, String host, String method, String target,
                List<Header> headers, boolean hasBody, boolean websocket) {
            this.exchange = exchange;
            this.entry = entry;
            this.host = host;
            this.method = method;
            this.target = target;
            this.headers = headers;
            this.hasBody = hasBody;
            this.websocket = websocket;
        }

        Mono<Void> run(Tunnel excluded, boolean mayRetry) {
            Tunnel picked = entry.pick(excluded);
            if (!(picked instanceof TunnelSession tunnel)) {
                return Mono.error(ProxyException.noAgent(host));
            }
            AccessRecord access = access(exchange);
            access.agentId = tunnel.agentId();
            ProxyStream stream = ProxyStream.open(tunnel, metrics);
            if (stream == null) {
                // the tunnel closed or filled up since the pick: nothing went out, try another once
                return mayRetry ? run(tunnel, false) : Mono.error(ProxyException.noAgent(host));
            }
            RouteClaim route = entry.route();
            Frame.Request frame = new Frame.Request(
                    stream.streamId(), method, target, route.host(), route.pathPrefix(), headers, !hasBody && !websocket);
            if (websocket) {
                stream.sendUpgrade(frame);
            } else {
                stream.send(frame, hasBody ? requestBody(exchange.getRequest(), access) : null);
            }
            return stream.response()
                    .timeout(properties.responseTimeout(), EventLoopSchedulers.current())
                    .onErrorResume(TimeoutException.class, e -> {
                        stream.cancel("no response within " + properties.responseTimeout());
                        return Mono.error(ProxyException.timeout());
                    })
                    .onErrorResume(StreamFailure.class, failure -> beforeHeaders(failure, stream, mayRetry))
                    .flatMap(response -> respond(stream, response))
                    .doOnCancel(() -> stream.cancel("client went away"));
        }

        private Mono<Frame.Response> beforeHeaders(StreamFailure failure, ProxyStream stream, boolean mayRetry) {
            if (failure.kind() == StreamFailure.Kind.RESET && failure.resetCode() == ResetCode.REFUSED_STREAM
                    && mayRetry && !hasBody && !stream.dataSent()) {
                // the agent refused it before doing anything: safe to try another tunnel once
                return run(stream.tunnel(), false).then(Mono.empty());
            }
            return Mono.error(problemFor(failure));
        }

        /** The answer for a stream that failed while nothing of its response had reached the client. */
        private Throwable problemFor(StreamFailure failure) {
            return switch (failure.kind()) {
                case RESET -> switch (failure.resetCode()) {
                    case UPSTREAM_TIMEOUT -> ProxyException.timeout();
                    case BODY_TOO_LARGE -> properties.bodyLimited()
                            ? ProxyException.tooLarge(properties.maxRequestBodyBytes())
                            : ProxyException.tooLargeForRoute();
                    case REFUSED_STREAM -> ProxyException.noAgent(host);
                    default -> ProxyException.badGateway("agent answered " + failure.resetCode());
                };
                case TUNNEL_LOST -> ProxyException.badGateway("agent connection lost");
                case BODY_TOO_LARGE -> ProxyException.tooLarge(properties.maxRequestBodyBytes());
                case CLIENT_ABORT -> failure;
            };
        }

        private Mono<Void> respond(ProxyStream stream, Frame.Response frame) {
            if (frame.status() == 101) {
                if (!websocket || frame.endStream()) {
                    stream.reset(ResetCode.PROTOCOL_ERROR, "101 without a WebSocket upgrade");
                    return Mono.error(ProxyException.badGateway("agent answered 101 to a request that is no upgrade"));
                }
                return websockets.upgrade(exchange, stream, frame,
                        WebSocketUpgrade.offeredProtocols(exchange.getRequest().getHeaders()), access(exchange));
            }
            ServerHttpResponse response = exchange.getResponse();
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
            AccessRecord access = access(exchange);
            HttpServerResponse nativeResponse = nativeResponse(response);
            if (nativeResponse != null) {
                // asked by Reactor Netty when the body has ended, which is after any Trailers frame arrived
                nativeResponse.trailerHeaders(trailers -> ResponseTrailers.copy(stream.trailers(), trailers));
            }
            AtomicBoolean bodyStarted = new AtomicBoolean();
            Flux<DataBuffer> body = Flux.from(stream.body()).<DataBuffer>map(buf -> {
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
            return body.switchOnFirst((first, rest) -> first.isOnComplete()
                            ? response.setComplete()
                            : response.writeWith(rest))
                    .then()
                    .onErrorResume(StreamFailure.class, failure -> {
                        if (!response.isCommitted()) {
                            return Mono.error(problemFor(failure));
                        }
                        abortConnection(response);
                        return Mono.error(failure);
                    });
        }
    }

    /**
     * Closes the client connection of a response whose headers are out. Propagating the error is not
     * enough: WebFlux swallows errors whose message looks like a client disconnect ("connection reset",
     * "broken pipe"), which a lost tunnel's reason can be, and the client would then wait forever for
     * the rest of a Content-Length body.
     */
    private static void abortConnection(ServerHttpResponse response) {
        Object nativeResponse;
        try {
            nativeResponse = ServerHttpResponseDecorator.getNativeResponse(response);
        } catch (IllegalArgumentException e) {
            return; // not a native-backed response (tests with mocks)
        }
        if (nativeResponse instanceof Connection connection) {
            connection.channel().close();
        }
    }

    private static HttpServerResponse nativeResponse(ServerHttpResponse response) {
        try {
            return ServerHttpResponseDecorator.getNativeResponse(response) instanceof HttpServerResponse netty
                    ? netty : null;
        } catch (IllegalArgumentException e) {
            return null; // not a native-backed response (tests with mocks)
        }
    }

    private static AccessRecord access(ServerWebExchange exchange) {
        AccessRecord access = exchange.getAttribute(AccessRecord.ATTRIBUTE);
        return access != null ? access : new AccessRecord();
    }

    private Flux<ByteBuf> requestBody(ServerHttpRequest request, AccessRecord access) {
        long limit = properties.maxRequestBodyBytes();
        AtomicLong total = new AtomicLong();
        return request.getBody()
                .<ByteBuf>handle((buffer, sink) -> {
                    ByteBuf buf = NettyDataBufferFactory.toByteBuf(buffer);
                    int bytes = buf.readableBytes();
                    if (limit >= 0 && total.addAndGet(bytes) > limit) {
                        buf.release();
                        sink.error(new StreamFailure(StreamFailure.Kind.BODY_TOO_LARGE, null,
                                "request body over " + limit + " bytes"));
                        return;
                    }
                    metrics.requestBytes(bytes);
                    access.requestBytes.addAndGet(bytes);
                    sink.next(buf);
                })
                .doOnDiscard(ByteBuf.class, ReferenceCounted::release)
                .doOnDiscard(DataBuffer.class, DataBufferUtils::release);
    }

    /** Header fields in arrival order, with case and duplicates, straight from Reactor Netty when possible. */
    private static List<Header> receivedHeaders(ServerHttpRequest request) {
        List<Header> headers = new ArrayList<>();
        Object nativeRequest = null;
        try {
            nativeRequest = ServerHttpRequestDecorator.getNativeRequest(request);
        } catch (IllegalArgumentException e) {
            // not a native-backed request (tests with mocks)
        }
        if (nativeRequest instanceof HttpServerRequest netty) {
            for (Map.Entry<String, String> header : netty.requestHeaders()) {
                headers.add(new Header(header.getKey(), header.getValue()));
            }
            return headers;
        }
        request.getHeaders().forEach((name, values) -> values.forEach(value -> headers.add(new Header(name, value))));
        return headers;
    }
}
