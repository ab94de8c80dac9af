package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.testsupport.NoLeaks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * An agent whose connection is reset (a crashed host, a middlebox dropping state) is a lost agent:
 * its routes go at once, the log says it was lost, and nothing calls it a protocol error or logs an
 * ERROR for the second copy of the reset that reaches the other side of the connection.
 */
@ExtendWith({NoLeaks.class, OutputCaptureExtension.class})
class TunnelConnectionLossIntegrationTests {

    private static final String TOKEN = "connection-loss-token";

    @Test
    void aResetTunnelIsLoggedAsLostAndItsRoutesGoWhileOthersKeepServing(CapturedOutput output) {
        ConfigurableApplicationContext context = OwnEventLoops.apply(IngressApplication.application()).run(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=" + TOKEN);
        try (context) {
            int publicPort = ((WebServerApplicationContext) context).getWebServer().getPort();
            int tunnelPort = context.getBean(TunnelServer.class).port();
            AgentRegistry registry = context.getBean(AgentRegistry.class);
            try (FakeAgent good = FakeAgent.registered(tunnelPort, "steady-agent", TOKEN,
                            (agent, request, body) -> agent.respond(request.streamId(), 200, List.of(),
                                    "steady".getBytes(StandardCharsets.UTF_8)),
                            "steady.test");
                    FakeAgent doomed = FakeAgent.registered(tunnelPort, "doomed-agent", TOKEN, null, "doomed.test")) {
                assertThat(registry.tunnelCount("doomed.test")).isEqualTo(1);

                doomed.reset();

                await().atMost(Duration.ofSeconds(10)).until(() -> registry.tunnelCount("doomed.test") == 0);
                await().atMost(Duration.ofSeconds(5)).until(() -> output.getOut().contains("(agent 'doomed-agent', "));
                assertThat(output.getOut()).containsPattern("agent 'doomed-agent', [^)]*\\) (lost: |disconnected)");
                assertThat(Http.client(publicPort, "steady.test").get().uri("/")
                        .responseSingle((res, body) -> body.asString().map(text -> res.status().code() + " " + text))
                        .block(Duration.ofSeconds(10))).isEqualTo("200 steady");
            }
        }
        assertThat(output.getAll())
                .doesNotContain("PROTOCOL_ERROR")
                .doesNotContain("onErrorDropped")
                .doesNotContain(" ERROR ");
    }
}
