package io.edgetunnel.ingress.routing;

import io.edgetunnel.ingress.proxy.ProxyHandler;
import java.net.InetSocketAddress;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Sends every public request to the {@link ProxyHandler}, ahead of any other mapping. The management
 * context's dispatcher also sees this bean (it looks up mappings in parent contexts), so requests
 * arriving on the management port are left alone, as Spring Cloud Gateway's
 * {@code RoutePredicateHandlerMapping} does. Not an {@code AbstractHandlerMapping}: that would answer
 * CORS pre-flights itself instead of forwarding them to the app.
 */
@Component
public final class PublicHandlerMapping implements HandlerMapping, Ordered, ApplicationListener<WebServerInitializedEvent> {

    private final ProxyHandler handler;
    private volatile int managementPort = -1;

    public PublicHandlerMapping(ProxyHandler handler) {
        this.handler = handler;
    }

    @Override
    public void onApplicationEvent(WebServerInitializedEvent event) {
        if ("management".equals(event.getApplicationContext().getServerNamespace())) {
            managementPort = event.getWebServer().getPort();
        }
    }

    @Override
    public Mono<Object> getHandler(ServerWebExchange exchange) {
        InetSocketAddress local = exchange.getRequest().getLocalAddress();
        if (managementPort > 0 && local != null && local.getPort() == managementPort) {
            return Mono.empty();
        }
        return Mono.just(handler);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
