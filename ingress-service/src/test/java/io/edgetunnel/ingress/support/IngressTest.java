package io.edgetunnel.ingress.support;

import io.edgetunnel.testsupport.NoLeaks;
import io.edgetunnel.ingress.IngressApplication;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The real ingress on random ports (public, management, tunnel), with short timeouts and small
 * limits so that every status path is reachable quickly. One shared context for every class using it.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(NoLeaks.class)
@SpringBootTest(
        classes = IngressApplication.class,
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "spring.config.name=ingress",
            "server.port=0",
            "management.server.port=0",
            "ingress.tunnel.port=0",
            "ingress.auth.token=" + IngressTest.TOKEN,
            "ingress.tunnel.hello-timeout=1s",
            "ingress.tunnel.max-routes-per-agent=4",
            "ingress.tunnel.max-frame-bytes=65536",
            "ingress.proxy.max-request-body-bytes=1048576",
            "ingress.proxy.response-timeout=2s",
            "ingress.proxy.retry-after=7s"
        })
public @interface IngressTest {
    String TOKEN = "test-token-0123456789";
}
