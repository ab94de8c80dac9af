package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.cluster.PeerLinks;
import io.edgetunnel.ingress.config.ProxyProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.security.policy.TrustedProxies;
import io.edgetunnel.ingress.security.policy.TrustedProxiesProperties;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import io.edgetunnel.protocol.HostNames;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.TcpRoutes;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebHandler;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * Every public request: Host → route → tunnel stream → the agent's response, streamed both ways; or,
 * when another replica of the cluster holds the route, forwarded there. Failures before response
 * headers become problem answers (400/404/413/502/503/504); failures after them error the response
 * body so the client connection is aborted, never cleanly truncated.
 *
 * <p>Requests that another replica forwarded here ({@link #handleForwarded}) are served by this
 * replica's own tunnels only, with their forwarding headers as the first replica wrote them, and are
 * never forwarded again: a request crosses at most one hop.
 */
@Component
public final class ProxyHandler implements WebHandler {

    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    /** On a forwarded request's 503: this replica holds no agent for it, so the sender may try another. */
    public static final String HOLDER_HEADER = "X-Edge-Cluster-Holder";

    private final AgentRegistry registry;
    private final ProxyProperties properties;
    private final IngressMetrics metrics;
    private final TrustedProxies trustedProxies;
    private final WebSocketBridge websockets;
    /** Null for a single ingress. */
    private final ClusterForwarder cluster;
    /** Null for a single ingress, or when requests cross to other replicas by the HTTP hop. */
    private final PeerLinks links;

    public ProxyHandler(AgentRegistry registry, ProxyProperties properties, IngressMetrics metrics,
            TrustedProxiesProperties trustedProxies, ObjectProvider<ClusterForwarder> cluster,
            ObjectProvider<PeerLinks> links, OpenWebSockets open) {
        this.registry = registry;
        this.properties = properties;
        this.metrics = metrics;
        this.trustedProxies = TrustedProxies.of(trustedProxies.trustedProxies());
        this.websockets = new WebSocketBridge(properties.websocket(), metrics, open);
        // looked up once: a bean lookup per request costs more than the routing it decides
        this.cluster = cluster.getIfAvailable();
        this.links = links.getIfAvailable();
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
        return handle(exchange, false);
    }

    /** A request another replica forwarded over the cluster port, its signature already checked. */
    public Mono<Void> handleForwarded(ServerWebExchange exchange) {
        return handle(exchange, true);
    }

    private Mono<Void> handle(ServerWebExchange exchange, boolean forwardedIn) {
        Exchange state = new Exchange();
        exchange.getAttributes().put(AccessRecord.ATTRIBUTE, state.access);
        return Mono.defer(() -> proxy(exchange, state, forwardedIn))
                .doOnSuccess(v -> {
                    if (state.access.outcome == null) {
                        state.access.outcome = ProxyException.Outcome.OK;
                    }
                })
                .onErrorResume(ProxyException.class, problem -> {
                    state.access.outcome = problem.outcome();
                    boolean noHolder = forwardedIn && (problem.outcome().equals(ProxyException.Outcome.NO_AGENT)
                            || problem.outcome().equals(ProxyException.Outcome.NO_ROUTE));
                    if (noHolder) {
                        // the sender's directory was stale: say so, so it can try another holder
                        return ProblemResponses.write(exchange, ProxyException.noAgent(host(exchange)),
                                properties.retryAfter(), HOLDER_HEADER, "none");
                    }
                    return ProblemResponses.write(exchange, problem, properties.retryAfter());
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
                .doFinally(signal -> {
                    if (!forwardedIn) {
                        // a forwarded request is counted once, by the replica the client reached
                        record(exchange, state, signal);
                    }
                });
    }

    private static String host(ServerWebExchange exchange) {
        String host = exchange.getRequest().getHeaders().getFirst(HttpHeaders.HOST);
        return host == null ? "" : host;
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
        if (!IngressMetrics.UNMATCHED.equals(state.route)) {
            metrics.served(state.access.forwarded);
        }
    }

    private Mono<Void> proxy(ServerWebExchange exchange, Exchange state, boolean forwardedIn) {
        ServerHttpRequest request = exchange.getRequest();
        List<Header> received = ExchangeSupport.receivedHeaders(request);
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
        if (TcpRoutes.isTcp(host)) {
            // a TCP route's claim (name._tcp) is served on its TCP listener, never as an HTTP host
            throw ProxyException.noRoute(host);
        }
        ClusterForwarder forwarder = forwardedIn ? null : cluster;
        RouteEntry<Tunnel> local = registry.match(host, path);
        RouteEntry<Tunnel> remote = forwarder == null ? null : forwarder.match(host, path);
        if (local == null && remote == null) {
            if (forwarder != null && forwarder.recentlyVacated(host, path)) {
                throw ProxyException.noAgent(host);
            }
            throw ProxyException.noRoute(host);
        }
        // the most specific route wins wherever it is held; the same route held here and elsewhere
        // is served here first and forwarded only when no local agent can take it
        boolean forwardFirst = local == null || (remote != null && moreSpecific(remote.route(), local.route()));
        boolean forwardAfter = !forwardFirst && remote != null && remote.route().equals(local.route());
        state.route = (forwardFirst ? remote : local).route().toString();

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

        List<Header> forwarded;
        if (forwardedIn) {
            // the first replica wrote this hop's forwarding headers and request id: pass them unchanged
            forwarded = HopByHopHeaders.strip(received);
        } else {
            InetSocketAddress remoteAddress = request.getRemoteAddress();
            InetSocketAddress localAddress = request.getLocalAddress();
            String peer = remoteAddress == null ? null : (remoteAddress.getAddress() == null
                    ? remoteAddress.getHostString() : remoteAddress.getAddress().getHostAddress());
            forwarded = ForwardedHeaders.forRequest(received, peer, peer != null && trustedProxies.trusted(peer), "http",
                    rawHost, localAddress == null ? 0 : localAddress.getPort());
        }
        String rawQuery = request.getURI().getRawQuery();
        String target = rawQuery == null ? path : path + "?" + rawQuery;
        if (websocket) {
            forwarded = WebSocketUpgrade.requestHeaders(forwarded);
        }
        PublicRequest outgoing = new PublicRequest(exchange, host, rawHost, request.getMethod().name(), target, forwarded,
                hasBody, websocket);
        if (forwardFirst) {
            return forward(outgoing, remote, request);
        }
        TunnelAttempt attempt = new TunnelAttempt(outgoing, local, () -> requestBody(request, outgoing.access()),
                forwardAfter ? () -> forward(outgoing, remote, request) : null,
                properties, metrics, websockets);
        return attempt.run(null, true);
    }

    /** To a replica holding the route: a stream on the peer link to it, or (transport http) the HTTP hop. */
    private Mono<Void> forward(PublicRequest outgoing, RouteEntry<Tunnel> holders, ServerHttpRequest request) {
        if (links == null) {
            return cluster.forward(outgoing, holders, () -> requestBody(request, outgoing.access()));
        }
        return new TunnelAttempt(outgoing, holders, () -> requestBody(request, outgoing.access()), null, properties,
                metrics, websockets, links).run(null, true);
    }

    /** Whether route {@code a} beats {@code b} in matching: exact host, then the longer wildcard, then the longer prefix. */
    static boolean moreSpecific(RouteClaim a, RouteClaim b) {
        if (a.isWildcard() != b.isWildcard()) {
            return !a.isWildcard();
        }
        if (a.isWildcard() && a.host().length() != b.host().length()) {
            return a.host().length() > b.host().length();
        }
        return a.pathPrefix().length() > b.pathPrefix().length();
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
}
