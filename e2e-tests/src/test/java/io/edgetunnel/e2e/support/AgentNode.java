package io.edgetunnel.e2e.support;

import io.edgetunnel.agent.EdgeAgentApplication;
import io.edgetunnel.agent.tunnel.TunnelClient;
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
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--agent.ingress-uri=" + ingress.tunnelUri(),
                "--agent.token=" + IngressNode.TOKEN,
                "--agent.id=" + id,
                "--agent.identity.mode=off",
                "--agent.reconnect.min-backoff=50ms",
                "--agent.reconnect.max-backoff=500ms",
                "--spring.main.banner-mode=off"));
        int i = 0;
        for (Map.Entry<String, String> route : routes.entrySet()) {
            String claim = route.getKey();
            int slash = claim.indexOf('/');
            String host = slash < 0 ? claim : claim.substring(0, slash);
            args.add("--agent.routes[" + i + "].host=" + host);
            if (slash >= 0) {
                args.add("--agent.routes[" + i + "].path-prefix=" + claim.substring(slash));
            }
            args.add("--agent.routes[" + i + "].local-url=" + route.getValue());
            i++;
        }
        for (String property : properties) {
            args.add("--" + property);
        }
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
