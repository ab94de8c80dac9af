package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.testsupport.NoLeaks;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.context.ConfigurableApplicationContext;

@ExtendWith(NoLeaks.class)
class TunnelHeartbeatIntegrationTests {

    private static ConfigurableApplicationContext context;
    private static int tunnelPort;

    @BeforeAll
    static void start() {
        context = OwnEventLoops.apply(IngressApplication.application()).run(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=hb-token", "--ingress.tunnel.heartbeat-interval=200ms",
                // 1 s of missed pings before a cut: a loaded 2-core machine can stall the fake agent for 400 ms
                "--ingress.tunnel.heartbeat-missed-limit=5");
        tunnelPort = context.getBean(TunnelServer.class).port();
    }

    @AfterAll
    static void stop() {
        context.close();
    }

    @Test
    void silentAgentIsClosedWithHeartbeatTimeout() {
        try (FakeAgent agent = FakeAgent.hello(tunnelPort, "/tunnel", "agent-silent", "hb-token", "hb.test")) {
            agent.answerPings(false);
            assertThat(agent.await(Frame.Accept.class, Duration.ofSeconds(5)).heartbeatIntervalMillis()).isEqualTo(200);
            assertThat(agent.await(Frame.Ping.class, Duration.ofSeconds(5))).isNotNull();
            assertThat(agent.closeStatus(Duration.ofSeconds(10))).isEqualTo(CloseCode.HEARTBEAT_TIMEOUT.code());
        }
        assertThat(context.getBean(io.edgetunnel.ingress.registry.AgentRegistry.class).tunnelCount("hb.test")).isZero();
    }

    @Test
    void agentAnsweringPingsStaysConnected() throws InterruptedException {
        try (FakeAgent agent = FakeAgent.registered(tunnelPort, "agent-alive", "hb-token", null, "alive.test")) {
            Thread.sleep(3000); // three times the missed limit (5 x 200 ms)
            assertThat(agent.isClosed()).isFalse();
        }
    }
}
