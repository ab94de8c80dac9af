package io.edgetunnel.ingress.console;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * HTTP basic auth on the management port when {@link ManagementAuthProperties#enabled()}; the health
 * endpoints stay open for the load balancer's checks. Credentials are compared in constant time.
 * Lives in the management context only, so the public port never sees it.
 */
final class ManagementBasicAuth implements WebFilter {

    private final byte[] expected;

    ManagementBasicAuth(ManagementAuthProperties properties) {
        this.expected = ("Basic " + Base64.getEncoder().encodeToString(
                (properties.username() + ":" + properties.password()).getBytes(StandardCharsets.UTF_8)))
                .getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (path.equals("/actuator/health") || path.startsWith("/actuator/health/")) {
            return chain.filter(exchange);
        }
        String given = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (given != null && MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
            return chain.filter(exchange);
        }
        exchange.getResponse().setStatusCode(HttpStatus.UNAUTHORIZED);
        exchange.getResponse().getHeaders().set(HttpHeaders.WWW_AUTHENTICATE,
                "Basic realm=\"edge-tunnel management\", charset=\"UTF-8\"");
        return exchange.getResponse().setComplete();
    }
}
