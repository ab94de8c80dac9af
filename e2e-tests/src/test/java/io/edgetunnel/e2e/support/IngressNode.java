package io.edgetunnel.e2e.support;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** The real ingress application on random loopback ports. */
public final class IngressNode implements AutoCloseable {

    public static final String TOKEN = "e2e-shared-token-4f1c";

    private final ConfigurableApplicationContext context;

    private IngressNode(ConfigurableApplicationContext context) {
        this.context = context;
    }

    /** Starts with the test token and random ports; {@code properties} are {@code key=value} overrides. */
    public static IngressNode start(String... properties) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--management.server.port=0",
                "--ingress.auth.token=" + TOKEN,
                "--spring.main.banner-mode=off"));
        boolean tunnelPortGiven = false;
        for (String property : properties) {
            args.add("--" + property);
            tunnelPortGiven |= property.startsWith("ingress.tunnel.port=");
        }
        if (!tunnelPortGiven) {
            args.add("--ingress.tunnel.port=0");
        }
        return new IngressNode(SharedReactorResources.apply(IngressApplication.application()).run(args.toArray(String[]::new)));
    }

    public int publicPort() {
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    public int managementPort() {
        return Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
    }

    public int tunnelPort() {
        return context.getBean(TunnelServer.class).port();
    }

    public String tunnelUri() {
        return "ws://127.0.0.1:" + tunnelPort() + "/tunnel";
    }

    /** The replica-to-replica listener's port; only with clustering on. */
    public int clusterPort() {
        return context.getBean(io.edgetunnel.ingress.cluster.ClusterServer.class).port();
    }

    public ConfigurableApplicationContext context() {
        return context;
    }

    /** Whether readiness (what the load balancer checks) is UP. */
    public boolean ready() {
        Integer status = reactor.netty.http.client.HttpClient.create()
                .get().uri("http://127.0.0.1:" + managementPort() + "/actuator/health/readiness")
                .response().map(response -> response.status().code())
                .onErrorReturn(-1)
                .block(java.time.Duration.ofSeconds(10));
        return status != null && status == 200;
    }

    public AgentRegistry registry() {
        return context.getBean(AgentRegistry.class);
    }

    public MeterRegistry meters() {
        return context.getBean(MeterRegistry.class);
    }

    public double gauge(String name) {
        return meters().get(name).gauge().value();
    }

    @Override
    public void close() {
        context.close();
    }
}
