package io.edgetunnel.ingress.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The operator console: its page on the management port only, and the typed JSON it polls. */
@IngressTest
class ConsoleIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalManagementPort
    int managementPort;

    @LocalServerPort
    int publicPort;

    @Autowired
    TunnelServer tunnelServer;

    @Autowired
    AgentRegistry registry;

    private JsonNode console() {
        Http.Reply reply = Http.get(managementPort, "localhost", "/actuator/console");
        assertThat(reply.status()).isEqualTo(200);
        return JSON.readTree(reply.body());
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode node : array) {
            if (value.equals(node.path(field).asString())) {
                return node;
            }
        }
        return null;
    }

    @Test
    void pageAndItsFilesAreServedOnTheManagementPortOnlyWithAStrictPolicy() {
        Http.Reply page = Http.get(managementPort, "localhost", "/");
        Http.Reply script = Http.get(managementPort, "localhost", "/console.js");
        Http.Reply onPublic = Http.get(publicPort, "nobody.console.test", "/console.js");

        assertThat(page.status()).isEqualTo(200);
        assertThat(page.headers().get("Content-Type")).startsWith("text/html");
        assertThat(page.headers().get("Content-Security-Policy")).contains("default-src 'none'")
                .contains("script-src 'self'").doesNotContain("unsafe");
        assertThat(page.body()).contains("<script src=\"console.js\"").doesNotContain("http://")
                .doesNotContain("https://");
        assertThat(script.status()).isEqualTo(200);
        assertThat(script.body()).contains("actuator/console").doesNotContain("innerHTML");
        assertThat(onPublic.status()).isEqualTo(404);
    }

    @Test
    void agentsAndRoutesAreListedTypedWithVersionAndSelfCheckAsBoolean() {
        FakeAgent agent = FakeAgent.connect(tunnelServer.port(), "/tunnel");
        agent.send(new Frame.Hello(ProtocolVersion.MIN, ProtocolVersion.MAX, "agent-console", IngressTest.TOKEN, "",
                List.of(RouteClaim.host("console.test"), new RouteClaim("console.test", "/api")),
                Map.of("identity.verified", "false", "agent.version", "9.8.7")));
        assertThat(agent.next(WAIT)).isInstanceOf(Frame.Accept.class);
        try {
            JsonNode view = console();
            JsonNode listed = find(view.path("agents"), "agentId", "agent-console");

            assertThat(listed).isNotNull();
            assertThat(listed.path("selfCheck").isBoolean()).isTrue();
            assertThat(listed.path("selfCheck").asBoolean()).isFalse();
            assertThat(listed.path("version").asString()).isEqualTo("9.8.7");
            assertThat(listed.path("protocolVersion").asInt()).isEqualTo(ProtocolVersion.MAX);
            assertThat(listed.path("tunnels").asInt()).isEqualTo(1);
            assertThat(listed.path("identity").asString()).isNotEmpty();
            assertThat(listed.path("connectedSince").asString()).isNotEmpty();
            assertThat(view.path("replica").path("draining").isBoolean()).isTrue();
            JsonNode route = find(view.path("routes"), "route", "console.test/api");
            assertThat(route).isNotNull();
            assertThat(route.path("health").asString()).isEqualTo("healthy");
            assertThat(route.path("agents").get(0).asString()).isEqualTo("agent-console");
            assertThat(view.toString()).doesNotContain(IngressTest.TOKEN);

            Http.Reply tunnels = Http.get(managementPort, "localhost", "/actuator/tunnels");
            assertThat(tunnels.body()).contains("\"selfCheck\":false");

            agent.send(new Frame.RouteHealth(RouteClaim.host("console.test"), false));
            await().atMost(WAIT).until(() -> "unhealthy".equals(
                    find(console().path("routes"), "route", "console.test").path("health").asString()));
        } finally {
            agent.close();
        }
        await().atMost(WAIT).until(() -> registry.tunnelCount("console.test") == 0);
    }

    @Test
    void routeRatesErrorsAndP99ComeFromTheRequestMetrics() {
        try (FakeAgent agent = FakeAgent.registered(tunnelServer.port(), "agent-rates", IngressTest.TOKEN,
                (a, request, body) -> a.respond(request.streamId(), request.target().startsWith("/fail") ? 500 : 200,
                        List.of(), "ok".getBytes()), "rates.console.test")) {
            console(); // the first sample: rates are over the time between samples
            for (int i = 0; i < 8; i++) {
                Http.get(publicPort, "rates.console.test", "/ok");
            }
            for (int i = 0; i < 2; i++) {
                Http.get(publicPort, "rates.console.test", "/fail");
            }
            await().atMost(WAIT).pollInterval(Duration.ofMillis(1100)).untilAsserted(() -> {
                JsonNode route = find(console().path("routes"), "route", "rates.console.test");
                assertThat(route.path("requestsPerSecond").asDouble()).isPositive();
                assertThat(route.path("errorRatio").asDouble()).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
                assertThat(route.path("p99Millis").isNumber()).isTrue();
            });
        }
        await().atMost(WAIT).until(() -> registry.tunnelCount("rates.console.test") == 0);
    }

    @Test
    void refusedHellosAreListedWithReasonAndWithoutTheToken() {
        String wrongToken = "wrong-token-console-5e1";
        try (FakeAgent refused = FakeAgent.hello(tunnelServer.port(), "/tunnel", "agent-refused-5e1", wrongToken,
                "refused.console.test")) {
            assertThat(refused.next(WAIT)).isInstanceOf(Frame.Reject.class);
        }
        JsonNode view = console();
        JsonNode rejection = find(view.path("rejectedHellos"), "agentId", "agent-refused-5e1");

        assertThat(rejection).isNotNull();
        assertThat(rejection.path("reason").asString()).isEqualTo("BAD_CREDENTIALS");
        assertThat(rejection.path("remoteAddress").asString()).startsWith("127.0.0.1");
        assertThat(view.toString()).doesNotContain(wrongToken);
    }
}
