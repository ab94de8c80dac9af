package io.edgetunnel.ingress.support;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.testsupport.NoLeaks;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The real ingress as {@link IngressTest} starts it, configured as behind an ALB: loopback is the
 * trusted proxy, h2c is on with one host allowed to upgrade, WebSocket compression is opted into for
 * {@code *.compress.test}, and the pre-authentication limits are small. One shared context for every
 * class using it (the edge-hardening tests).
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
            "ingress.tunnel.hello-timeout=2s",
            "ingress.proxy.response-timeout=5s",
            "ingress.proxy.trusted-proxies=127.0.0.1/32",
            "ingress.proxy.h2c=true",
            "ingress.proxy.h2c-upgrade-hosts=upgrade.test",
            "ingress.proxy.websocket.compress-hosts=*.compress.test",
            "ingress.tunnel.pre-auth.max-connections=6",
            "ingress.tunnel.pre-auth.max-connections-per-source=3",
            "ingress.policy.failed-hellos.initial-delay=1m"
        })
public @interface EdgeIngressTest {}
