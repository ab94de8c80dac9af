package io.edgetunnel.agent;

import io.edgetunnel.agent.startup.ClassPreloader;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The edge agent: dials the ingress over outbound WebSocket tunnels and proxies each tunneled
 * request to a local app. Its only listener is the management port (health, Prometheus).
 *
 * <p>Configuration lives in {@code agent.properties} (not {@code application.*}), so the agent and the
 * ingress can share one JVM in end-to-end tests without reading each other's files; properties,
 * not YAML, so that SnakeYAML's classes never load on a small host.
 */
@SpringBootApplication
public class EdgeAgentApplication {

    /** The application with its defaults; tests and launchers start the agent through this. */
    public static SpringApplication application() {
        SpringApplication application = new SpringApplication(EdgeAgentApplication.class);
        application.setDefaultProperties(Map.of("spring.config.name", "agent"));
        return application;
    }

    public static void main(String[] args) {
        // before anything else, so the preloader stays ahead of the main thread (0.6-1.0 s less to ready
        // on two slow cores: docs/benchmarks.md, "Footprint")
        ClassPreloader.startInBackground(EdgeAgentApplication.class.getClassLoader(), args);
        application().run(args);
    }
}
