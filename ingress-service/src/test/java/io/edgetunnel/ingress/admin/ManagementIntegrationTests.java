package io.edgetunnel.ingress.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;

@IngressTest
class ManagementIntegrationTests {

    @LocalManagementPort
    int managementPort;

    @LocalServerPort
    int publicPort;

    @Autowired
    TunnelServer tunnelServer;

    @Autowired
    AgentRegistry registry;

    @Test
    void managementPortServesProbesAndPrometheus() {
        assertThat(managementPort).isNotEqualTo(publicPort);
        Http.Reply liveness = Http.get(managementPort, "localhost", "/actuator/health/liveness");
        Http.Reply readiness = Http.get(managementPort, "localhost", "/actuator/health/readiness");
        Http.Reply health = Http.get(managementPort, "localhost", "/actuator/health");
        Http.Reply prometheus = Http.get(managementPort, "localhost", "/actuator/prometheus");

        assertThat(liveness.status()).isEqualTo(200);
        assertThat(liveness.body()).contains("UP");
        assertThat(readiness.status()).isEqualTo(200);
        assertThat(readiness.body()).contains("UP");
        assertThat(health.status()).isEqualTo(200);
        assertThat(prometheus.status()).isEqualTo(200);
        assertThat(prometheus.body())
                .contains("tunnel_ingress_agents_connected")
                .contains("tunnel_ingress_tunnels_connected")
                .contains("tunnel_ingress_routes")
                .contains("tunnel_ingress_streams_active")
                .contains("tunnel_ingress_buffered_bytes")
                .contains("tunnel_ingress_registrations_total");
    }

    @Test
    void publicRouterDoesNotAnswerOnTheManagementPort() {
        try (FakeAgent agent = FakeAgent.registered(tunnelServer.port(), "agent-m", IngressTest.TOKEN,
                (a, request, body) -> a.respond(request.streamId(), 200, java.util.List.of(), "app".getBytes()),
                "localhost")) {
            Http.Reply onManagement = Http.get(managementPort, "localhost", "/not-actuator");
            Http.Reply onPublic = Http.get(publicPort, "localhost", "/not-actuator");

            assertThat(onManagement.status()).isEqualTo(404);
            assertThat(onManagement.body()).doesNotContain("app");
            assertThat(onPublic.body()).isEqualTo("app");
            assertThat(agent.requests()).hasSize(1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> registry.tunnelCount() == 0);
    }

    @Test
    void actuatorIsNotExposedOnThePublicPort() {
        Http.Reply reply = Http.get(publicPort, "nobody.test", "/actuator/health");

        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.body()).contains("No route");
    }

    @Test
    void tunnelsEndpointListsAgentsRoutesAndNoToken() {
        try (FakeAgent agent = FakeAgent.registered(tunnelServer.port(), "agent-listed", IngressTest.TOKEN, null,
                "listed.test", "*.listed.test")) {
            Http.Reply reply = Http.get(managementPort, "localhost", "/actuator/tunnels");

            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body())
                    .contains("\"agentId\":\"agent-listed\"")
                    .contains("\"host\":\"listed.test\"")
                    .contains("\"host\":\"*.listed.test\"")
                    .contains("\"remoteAddress\":\"127.0.0.1:")
                    .contains("\"connectedSince\"")
                    .contains("\"draining\":false")
                    .contains("\"healthy\":true")
                    .doesNotContain(IngressTest.TOKEN)
                    .doesNotContain("\"token\":");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> registry.tunnelCount() == 0);
    }
}
