package io.edgetunnel.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.agent.support.AgentLauncher;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the agent exposes on its host (host networking puts every listener on the home LAN): the
 * management port answers on loopback only, and the tunnel is never plain {@code ws://} across a
 * network unless the operator chose the {@code local} profile.
 */
class AgentHostExposureIntegrationTests {

    private static final String ROUTES = "app.example.com=http://127.0.0.1:9";

    @Test
    void managementPortListensOnLoopbackOnlyByDefault() throws Exception {
        try (AgentLauncher agent = AgentLauncher.start(
                AgentLauncher.testProperties("ws://127.0.0.1:9/tunnel", ROUTES, "exposure-1"))) {
            int port = agent.managementPort();

            assertThat(connects("127.0.0.1", port)).isTrue();
            // another address of this host, as the LAN interface would be
            assertThatThrownBy(() -> connects("127.0.0.2", port)).isInstanceOf(ConnectException.class);
        }
    }

    @Test
    void plainWebSocketToAnotherHostStartsOnlyInTheLocalProfile() {
        Map<String, String> remote = AgentLauncher.testProperties("ws://10.255.255.1:8082/tunnel", ROUTES, "exposure-2");
        assertThatThrownBy(() -> AgentLauncher.start(remote).close())
                .hasStackTraceContaining("expected: wss:// to an ingress on another host");

        Map<String, String> local = new java.util.HashMap<>(remote);
        local.put("spring.profiles.active", "local");
        try (AgentLauncher agent = AgentLauncher.start(local)) {
            assertThat(agent.managementPort()).isPositive();
        }
    }

    private static boolean connects(String host, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 10_000);
            return true;
        }
    }
}
