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
@SpringBootApplication
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
