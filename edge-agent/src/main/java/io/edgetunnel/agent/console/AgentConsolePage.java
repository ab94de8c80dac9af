package io.edgetunnel.agent.console;

import java.nio.charset.StandardCharsets;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The agent's status page on its only (management) port: {@code /}, with its script, from the jar,
 * reading {@code /actuator/agent} and the readiness probe every few seconds.
 */
@Configuration(proxyBeanMethods = false)
class AgentConsolePage {

    private static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; "
            + "style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    @Bean
    RouterFunction<ServerResponse> agentConsole() {
        return RouterFunctions.route()
                .GET("/", request -> file("agent-console/index.html", MediaType.TEXT_HTML))
                .GET("/agent-console.js", request -> file("agent-console/agent-console.js",
                        MediaType.valueOf("text/javascript")))
                .GET("/agent-console.css", request -> file("agent-console/agent-console.css",
                        MediaType.valueOf("text/css")))
                .build();
    }

    private static Mono<ServerResponse> file(String path, MediaType type) {
        return ServerResponse.ok()
                .contentType(new MediaType(type, StandardCharsets.UTF_8))
                .cacheControl(CacheControl.noCache())
                .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .header("X-Content-Type-Options", "nosniff")
                .bodyValue(new ClassPathResource(path));
    }
}
