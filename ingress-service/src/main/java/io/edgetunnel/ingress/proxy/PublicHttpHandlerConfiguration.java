package io.edgetunnel.ingress.proxy;

import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.web.server.WebExceptionHandler;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;

/**
 * The public port's request pipeline: the web filters (request id and access log), then the
 * {@link ProxyHandler}, nothing else. Every public request goes to that one handler, so Boot's
 * default pipeline (a {@code DispatcherHandler} looking up handler mappings, a handler adapter,
 * result handling with a checkpoint, and a Micrometer observation per request) only cost CPU: it was
 * most of the ingress's per-request time outside our code in the benchmark profiles. The request
 * metrics are the proxy's own ({@code tunnel_requests}), recorded directly.
 *
 * <p>Defining this bean makes Boot's {@code HttpHandlerAutoConfiguration} back off for the main
 * context only; the management server is a child context that builds its own handler (actuator
 * endpoints, with their observation), which is why the management port must differ from the public
 * one (it does by contract: 8081). The whole pipeline sits in a {@link KeepAliveReadGuard}, so a
 * request answered on the spot never leaves its keep-alive connection unread.
 */
@Configuration(proxyBeanMethods = false)
class PublicHttpHandlerConfiguration {

    @Bean
    HttpHandler httpHandler(ProxyHandler proxy, ObjectProvider<WebFilter> filters,
            ObjectProvider<WebExceptionHandler> exceptionHandlers,
            @Value("${server.netty.idle-timeout:#{null}}") Duration idleTimeout) {
        return new KeepAliveReadGuard(WebHttpHandlerBuilder.webHandler(proxy)
                .filters(list -> filters.orderedStream().forEach(list::add))
                .exceptionHandlers(list -> exceptionHandlers.orderedStream().forEach(list::add))
                .build(), idleTimeout);
    }
}
