package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * A registered tunnel knows the event loop its connection runs on, which the balancer uses to keep
 * a public request on one thread (RouteEntry prefers the agent's tunnel on the caller's loop).
 */
@IngressTest
class TunnelEventLoopIntegrationTests {

    @Autowired
    AgentRegistry registry;

    @Autowired
    TunnelServer server;

    @LocalServerPort
    int publicPort;

    @Test
    void aTunnelIsOnTheCurrentEventLoopOnlyOnItsConnectionsLoop() throws Exception {
        try (FakeAgent agent = FakeAgent.registered(server.port(), "agent-loop", IngressTest.TOKEN, null, "loop.test")) {
            TunnelSession tunnel = (TunnelSession) registry.byAgent().get("agent-loop").get(0);
            EventExecutor loop = tunnel.eventLoop();

            assertThat(loop).as("the connection's loop, passed in by TunnelServer").isNotNull();
            assertThat(tunnel.onCurrentEventLoop()).as("on the test thread").isFalse();
            assertThat(loop.submit(tunnel::onCurrentEventLoop).get(5, TimeUnit.SECONDS)).isTrue();
            for (EventExecutor other : loop.parent()) {
                if (other != loop) {
                    assertThat(other.submit(tunnel::onCurrentEventLoop).get(5, TimeUnit.SECONDS))
                            .as("another loop of the same group").isFalse();
                }
            }
        }
    }

    @Test
    void anAgentsTunnelsGoToDistinctLoopsWhateverElseTheLoopsAccepted() throws Exception {
        // tunnels of earlier tests in this context close asynchronously: start from balanced loops
        await().atMost(Duration.ofSeconds(10)).until(() -> Arrays.stream(server.openConnectionsPerLoop()).allMatch(n -> n == 0));
        try (FakeAgent first = FakeAgent.registered(server.port(), "agent-spread", IngressTest.TOKEN, null, "spread.test")) {
            EventExecutor firstLoop = ((TunnelSession) registry.byAgent().get("agent-spread").get(0)).eventLoop();
            assumeTrue(count(firstLoop.parent()) >= 2, "needs two event loops");
            // a connection accepted between the two dials moves round-robin on by one; with two loops the
            // second tunnel would land on the first one's loop
            try (Socket between = new Socket(InetAddress.getLoopbackAddress(), publicPort)) {
                between.getOutputStream().write("GET /nothing HTTP/1.1\r\nHost: none.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(between.getInputStream().read()).isNotNegative();
                try (FakeAgent second = FakeAgent.registered(server.port(), "agent-spread", IngressTest.TOKEN, null, "spread.test")) {
                    List<EventExecutor> loops = new ArrayList<>();
                    registry.byAgent().get("agent-spread").forEach(tunnel -> loops.add(((TunnelSession) tunnel).eventLoop()));
                    assertThat(loops).hasSize(2).doesNotHaveDuplicates();
                }
            }
        }
    }

    private static int count(Iterable<?> items) {
        int n = 0;
        for (Object ignored : items) {
            n++;
        }
        return n;
    }
}
