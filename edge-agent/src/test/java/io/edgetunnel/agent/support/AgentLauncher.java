package io.edgetunnel.agent.support;

import io.edgetunnel.agent.EdgeAgentApplication;
import io.edgetunnel.agent.tunnel.TunnelClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.context.ConfigurableApplicationContext;

/** Starts a real agent (the Spring application) with the given properties on a random management port. */
public final class AgentLauncher implements AutoCloseable {

    /**
     * Boot's own factory disposes Reactor Netty's global event loops when an agent context closes,
     * under the fake ingress and local app of the same test (and costs a 2 s quiet period per test).
     * This one never disposes them.
     */
    private static final ReactorResourceFactory SHARED_RESOURCES = sharedResources();

    private final ConfigurableApplicationContext context;

    private AgentLauncher(ConfigurableApplicationContext context) {
        this.context = context;
    }

    /**
     * What every test agent needs: where to dial, its routes, the test token, its id, no ECS Anywhere
     * self-check (no such host here) and a short drain; tests add or override the rest.
     */
    public static Map<String, String> testProperties(String ingressUri, String routes, String agentId) {
        Map<String, String> properties = new java.util.HashMap<>();
        properties.put("agent.ingress-uri", ingressUri);
        properties.put("agent.routes", routes);
        properties.put("agent.token", "t0ken-under-test");
        properties.put("agent.id", agentId);
        properties.put("agent.drain-timeout", "2s");
        properties.put("agent.identity.mode", "off");
        return properties;
    }

    public static AgentLauncher start(Map<String, String> properties) {
        List<String> args = new ArrayList<>();
        args.add("--server.port=0");
        if (!properties.containsKey("agent.identity.mode")) {
            // no ECS here: tests that do not exercise the self-check switch it off, as an operator would
            args.add("--agent.identity.mode=off");
        }
        if (!properties.containsKey("agent.tunnel-count")) {
            // the fake ingress tests count connections: one tunnel unless a test asks for more
            args.add("--agent.tunnel-count=1");
        }
        properties.forEach((key, value) -> args.add("--" + key + "=" + value));
        SpringApplication application = EdgeAgentApplication.application();
        application.addInitializers(context ->
                context.getBeanFactory().registerSingleton("reactorResourceFactory", SHARED_RESOURCES));
        return new AgentLauncher(application.run(args.toArray(String[]::new)));
    }

    private static ReactorResourceFactory sharedResources() {
        ReactorResourceFactory factory = new ReactorResourceFactory() {
            @Override
            public void stop() {}

            @Override
            public void destroy() {}
        };
        factory.setUseGlobalResources(true);
        factory.afterPropertiesSet();
        return factory;
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
