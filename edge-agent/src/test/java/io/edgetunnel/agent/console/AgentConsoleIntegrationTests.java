package io.edgetunnel.agent.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.agent.support.FakeIngress;
import io.edgetunnel.agent.support.LocalApp;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;

/** The agent's status page and its JSON: tunnels, routes, local health, and nothing secret. */
class AgentConsoleIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private static String get(int port, String path) {
        return HttpClient.create()
                .get()
                .uri("http://127.0.0.1:" + port + path)
                .responseSingle((response, body) -> body.asString().defaultIfEmpty("")
                        .map(text -> response.status().code() + " " + response.responseHeaders().get("Content-Type")
                                + "\n" + text))
                .block(WAIT);
    }

    @Test
    void pageAndJsonShowTunnelsAndRoutesButNeitherTokenNorInjectedHeaderValues() throws Exception {
        try (FakeIngress ingress = new FakeIngress(0, hello -> FakeIngress.accept("replica-x", 1));
                LocalApp app = new LocalApp(routes -> routes.get("/health", (req, res) -> res.status(503).send()))) {
            Map<String, String> properties = new HashMap<>();
            properties.put("agent.ingress-uri", ingress.uri());
            properties.put("agent.routes[0].host", "page.example");
            properties.put("agent.routes[0].local-url", app.url());
            properties.put("agent.routes[0].health-check.path", "/health");
            properties.put("agent.routes[0].health-check.interval", "100ms");
            properties.put("agent.routes[0].health-check.failure-threshold", "1");
            properties.put("agent.routes[0].request-headers.Authorization", "Bearer app-secret-4411");
            properties.put("agent.token", "agent-token-secret-9921");
            properties.put("agent.id", "page-agent");
            try (AgentLauncher agent = AgentLauncher.start(properties)) {
                ingress.awaitTunnel(WAIT);
                await().atMost(WAIT).until(() -> get(agent.managementPort(), "/actuator/agent")
                        .contains("\"healthy\":false"));

                String json = get(agent.managementPort(), "/actuator/agent");
                String page = get(agent.managementPort(), "/");

                assertThat(json).startsWith("200 ")
                        .contains("\"agentId\":\"page-agent\"")
                        .contains("\"tunnelsRegistered\":1")
                        .contains("\"replica-x\"")
                        .contains("\"route\":\"page.example\"")
                        .contains("\"healthCheck\":\"/health\"")
                        .doesNotContain("agent-token-secret-9921")
                        .doesNotContain("app-secret-4411");
                assertThat(page).startsWith("200 text/html").contains("agent-console.js");
                assertThat(get(agent.managementPort(), "/agent-console.js")).contains("actuator/agent");
            }
        }
    }
}
