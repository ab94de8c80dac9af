package io.edgetunnel.ingress;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * The public ingress: accepts agent tunnels on the tunnel port, routes public HTTP traffic by Host to
 * them. Its configuration lives in {@code ingress.yaml} (not {@code application.yaml}) so that tests
 * can run it next to an agent in one JVM.
 */
// Boot's Redis auto-configuration would connect to localhost:6379 and add a health indicator: the
// cluster directory builds its own connection, only when ingress.cluster.redis-url is set.
@SpringBootApplication(excludeName = {
        "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
        "org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration",
        "org.springframework.boot.data.redis.autoconfigure.DataRedisRepositoriesAutoConfiguration",
        "org.springframework.boot.data.redis.autoconfigure.health.DataRedisHealthContributorAutoConfiguration",
        "org.springframework.boot.data.redis.autoconfigure.health.DataRedisReactiveHealthContributorAutoConfiguration",
        "org.springframework.boot.data.redis.autoconfigure.observation.LettuceObservationAutoConfiguration"})
@ConfigurationPropertiesScan
public class IngressApplication {

    /** A SpringApplication reading {@code ingress*.yaml}; tests and {@link #main} start it the same way. */
    public static SpringApplication application() {
        SpringApplication application = new SpringApplication(IngressApplication.class);
        application.setDefaultProperties(Map.of("spring.config.name", "ingress"));
        return application;
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
