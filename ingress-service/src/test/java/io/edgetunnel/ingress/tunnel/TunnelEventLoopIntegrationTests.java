package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

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
}
