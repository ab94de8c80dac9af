package io.edgetunnel.agent.support;

import io.edgetunnel.agent.EdgeAgentApplication;
import io.edgetunnel.agent.tunnel.TunnelClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** Starts a real agent (the Spring application) with the given properties on a random management port. */
public final class AgentLauncher implements AutoCloseable {

    private final ConfigurableApplicationContext context;

    private AgentLauncher(ConfigurableApplicationContext context) {
        this.context = context;
    }

    public static AgentLauncher start(Map<String, String> properties) {
        List<String> args = new ArrayList<>();
        args.add("--server.port=0");
        if (!properties.containsKey("agent.identity.mode")) {
            // no ECS here: tests that do not exercise the self-check switch it off, as an operator would
            args.add("--agent.identity.mode=off");
        }
        properties.forEach((key, value) -> args.add("--" + key + "=" + value));
        return new AgentLauncher(EdgeAgentApplication.application().run(args.toArray(String[]::new)));
    }

    public ConfigurableApplicationContext context() {
        return context;
    }

    public TunnelClient tunnels() {
        return context.getBean(TunnelClient.class);
    }

    public int managementPort() {
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    @Override
    public void close() {
        context.close();
    }
}
