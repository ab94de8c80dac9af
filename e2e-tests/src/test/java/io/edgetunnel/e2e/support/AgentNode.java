package io.edgetunnel.e2e.support;

import io.edgetunnel.agent.EdgeAgentApplication;
import io.edgetunnel.agent.tunnel.TunnelClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** The real edge agent application, dialing an {@link IngressNode}. */
public final class AgentNode implements AutoCloseable {

    private final ConfigurableApplicationContext context;

    private AgentNode(ConfigurableApplicationContext context) {
        this.context = context;
    }

    /** Routes map a claim ({@code host} or {@code host/prefix}) to a local URL. */
    public static AgentNode start(IngressNode ingress, String id, Map<String, String> routes, String... properties) {
        return startAt(ingress.tunnelUri(), id, routes, properties);
    }

    /**
     * Dials {@code tunnelUri} (an ingress, or a relay in front of one); {@code properties} are
     * {@code key=value} overrides of the test defaults.
     */
    public static AgentNode startAt(String tunnelUri, String id, Map<String, String> routes, String... properties) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("server.port", "0");
        settings.put("server.address", "127.0.0.1");
        settings.put("agent.ingress-uri", tunnelUri);
        settings.put("agent.token", IngressNode.TOKEN);
        settings.put("agent.id", id);
        settings.put("agent.identity.mode", "off");
        settings.put("agent.reconnect.min-backoff", "50ms");
        settings.put("agent.reconnect.max-backoff", "500ms");
        // the tests count tunnels per host: one per agent unless a test asks for more
        settings.put("agent.tunnel-count", "1");
        settings.put("spring.main.banner-mode", "off");
        // the ingress's Redis client shares this test classpath; the agent ships without it
        settings.put("spring.autoconfigure.exclude", String.join(",",
                "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
                "org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration",
                "org.springframework.boot.data.redis.autoconfigure.DataRedisRepositoriesAutoConfiguration",
                "org.springframework.boot.data.redis.autoconfigure.health.DataRedisHealthContributorAutoConfiguration",
                "org.springframework.boot.data.redis.autoconfigure.health.DataRedisReactiveHealthContributorAutoConfiguration",
                "org.springframework.boot.data.redis.autoconfigure.observation.LettuceObservationAutoConfiguration"));
        int i = 0;
        for (Map.Entry<String, String> route : routes.entrySet()) {
            String claim = route.getKey();
            int slash = claim.indexOf('/');
            String host = slash < 0 ? claim : claim.substring(0, slash);
            settings.put("agent.routes[" + i + "].host", host);
            if (slash >= 0) {
                settings.put("agent.routes[" + i + "].path-prefix", claim.substring(slash));
            }
            settings.put("agent.routes[" + i + "].local-url", route.getValue());
            i++;
        }
        for (String property : properties) {
            int eq = property.indexOf('=');
            settings.put(property.substring(0, eq), property.substring(eq + 1));
        }
        List<String> args = new ArrayList<>();
        settings.forEach((key, value) -> args.add("--" + key + "=" + value));
        return new AgentNode(SharedReactorResources.apply(EdgeAgentApplication.application()).run(args.toArray(String[]::new)));
    }

    public static Map<String, String> route(String claim, String url) {
        Map<String, String> routes = new LinkedHashMap<>();
        routes.put(claim, url);
        return routes;
    }

    public TunnelClient tunnels() {
        return context.getBean(TunnelClient.class);
    }

    public MeterRegistry meters() {
        return context.getBean(MeterRegistry.class);
    }

    /** The current value of one of the agent's gauges, as Prometheus would scrape it. */
    public double gauge(String name) {
        return meters().get(name).gauge().value();
    }

    public int managementPort() {
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    public boolean isRunning() {
        return context.isActive();
    }

    @Override
    public void close() {
        if (context.isActive()) {
            context.close();
        }
    }
}
