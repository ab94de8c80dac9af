package io.edgetunnel.ingress.console;

import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;

/**
 * The operator console on the management port: {@code /} (a page, its script and its style, all
 * from the jar: no CDN, nothing external) reading {@code /actuator/console}. Imported into the
 * management context only (see {@code META-INF/spring/...ManagementContextConfiguration.imports}),
 * so the public port never serves it; with the optional basic auth there too.
 *
 * <p>Deliberately not annotated ({@code @ManagementContextConfiguration} is a {@code @Configuration}):
 * the application's component scan would then also load it into the main context, and its web
 * filter would join the public port's pipeline. The import above is its only way in, and only next
 * to the ingress's own endpoint: an agent started from the same classpath (tests) gets none of it.
 */
@ConditionalOnBean(ConsoleEndpoint.class)
class ConsolePageConfiguration {

    /** Only our own files; the JSON is fetched from the same origin; nothing may frame the page. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    @Bean
    RouterFunction<ServerResponse> consolePage() {
        return RouterFunctions.route()
                .GET("/", request -> file("console/index.html", MediaType.TEXT_HTML))
                .GET("/console.js", request -> file("console/console.js", MediaType.valueOf("text/javascript")))
                .GET("/console.css", request -> file("console/console.css", MediaType.valueOf("text/css")))
                .build();
    }

    @Bean
    WebFilter managementBasicAuth(ManagementAuthProperties properties) {
        if (!properties.enabled()) {
            return (exchange, chain) -> chain.filter(exchange);
        }
        return new ManagementBasicAuth(properties);
    }

    private static Mono<ServerResponse> file(String path, MediaType type) {
        return ServerResponse.ok()
                .contentType(new MediaType(type, java.nio.charset.StandardCharsets.UTF_8))
                .cacheControl(CacheControl.noCache())
                .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .header("X-Content-Type-Options", "nosniff")
                .bodyValue(new ClassPathResource(path));
    }
}
