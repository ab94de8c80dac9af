package io.edgetunnel.ingress.proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;

/**
 * Ends a public response that failed after its headers went out: an agent lost under a streamed body
 * (server-sent events, a download) or under a WebSocket. That is expected, and the access log
 * already has its WARN line with the request id and outcome; left to WebFlux, each would add an
 * ERROR ("response already committed") with a stack trace. The connection is aborted, so the client
 * never mistakes the cut for a clean end; an upgraded socket has already been closed (1014).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
final class CommittedResponseErrors implements WebExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(CommittedResponseErrors.class);

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable error) {
        ServerHttpResponse response = exchange.getResponse();
        if (!response.isCommitted()) {
            return Mono.error(error);
        }
        HttpStatusCode status = response.getStatusCode();
        log.debug("request_id={} response ended after its headers: {}",
                exchange.getRequest().getHeaders().getFirst("X-Request-Id"), error.toString());
        if (status == null || status.value() != 101) {
            ExchangeSupport.abortConnection(response);
        }
        return Mono.empty();
    }
}
