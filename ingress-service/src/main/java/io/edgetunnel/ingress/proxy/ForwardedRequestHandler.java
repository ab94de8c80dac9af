package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.cluster.HopSignature;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebHandler;
import reactor.core.publisher.Mono;

/**
 * The cluster port's one handler: a request another replica forwarded, served by this replica's own
 * tunnels once its signature checks out. Anything unsigned, forged, replayed late or looped back gets
 * 401 and never reaches an agent.
 */
public final class ForwardedRequestHandler implements WebHandler {

    private static final Logger log = LoggerFactory.getLogger(ForwardedRequestHandler.class);

    /** Marks the cluster port's own 401, so the sender never passes it on to a client. */
    static final String REFUSED_HEADER = "X-Edge-Cluster-Refused";

    private final ProxyHandler proxy;
    private final HopSignature signature;
    private final Counter rejected;

    public ForwardedRequestHandler(ProxyHandler proxy, HopSignature signature, MeterRegistry meters) {
        this.proxy = proxy;
        this.signature = signature;
        this.rejected = rejectedCounter(meters);
    }

    public static Counter rejectedCounter(MeterRegistry meters) {
        return Counter.builder("tunnel.ingress.cluster.hops.rejected")
                .description("Requests refused on the cluster port: no valid replica signature")
                .register(meters);
    }

    /**
     * What escapes the proxy on the cluster port: the sending replica went away (its client did) or the
     * tunnel failed after the response began. Expected, and the sender reports it; no ERROR line here.
     */
    public static Mono<Void> onUnhandled(ServerWebExchange exchange, Throwable error) {
        log.debug("Cluster port: {} {} ended: {}", exchange.getRequest().getMethod(), exchange.getRequest().getURI().getRawPath(),
                error.toString());
        if (exchange.getResponse().isCommitted()) {
            ExchangeSupport.abortConnection(exchange.getResponse());
            return Mono.empty();
        }
        exchange.getResponse().setStatusCode(org.springframework.http.HttpStatus.BAD_GATEWAY);
        return exchange.getResponse().setComplete();
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange) {
        ServerHttpRequest request = exchange.getRequest();
        String path = request.getURI().getRawPath();
        String query = request.getURI().getRawQuery();
        String target = (path == null || path.isEmpty() ? "/" : path) + (query == null ? "" : "?" + query);
        String reason = signature.reject(request.getHeaders().getFirst(HopSignature.HEADER), request.getMethod().name(),
                target, request.getHeaders().getFirst(HttpHeaders.HOST));
        if (reason != null) {
            rejected.increment();
            log.warn("Cluster port: refused {} {} from {}: {}", request.getMethod(), path, request.getRemoteAddress(), reason);
            return ProblemResponses.write(exchange,
                    new ProxyException(401, ProxyException.Outcome.BAD_REQUEST, "Unauthorized",
                            "cluster port: " + reason),
                    java.time.Duration.ZERO, REFUSED_HEADER, "signature");
        }
        return proxy.handleForwarded(exchange);
    }
}
