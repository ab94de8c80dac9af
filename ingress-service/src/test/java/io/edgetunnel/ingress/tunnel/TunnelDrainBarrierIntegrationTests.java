package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The agent's drain barrier (protocol section 10): a Ping sent after the agent's Drain is answered only
 * once every stream the ingress opened before the Drain has its REQUEST on the wire, ahead of the Pong;
 * and the ingress's own Drain never overtakes such a REQUEST either.
 */
@IngressTest
class TunnelDrainBarrierIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long BARRIER = 0xBA55L;

    @Autowired
    AgentRegistry registry;

    @Test
    void theBarrierPongWaitsForTheRequestOfAStreamOpenedBeforeTheAgentsDrain() {
        try (FakeAgent agent = FakeAgent.registered(port(), "agent-barrier", IngressTest.TOKEN, null, "barrier.test")) {
            TunnelSession tunnel = session("agent-barrier");
            // a public request picked this tunnel and opened its stream, but has not queued its REQUEST yet
            int streamId = tunnel.openStream(new IgnoringListener());
            assertThat(streamId).isPositive();

            agent.send(new Frame.Drain("agent shutting down"));
            agent.send(new Frame.Ping(BARRIER));
            assertThat(nextOfInterest(agent, Duration.ofMillis(500))).as("no Pong while a REQUEST is pending").isNull();
            assertThat(tunnel.openStream(new IgnoringListener())).as("no new stream after the Drain").isEqualTo(-1);

            tunnel.send(new Frame.Request(streamId, "GET", "/", "barrier.test", "/", List.of(), true));

            Frame first = nextOfInterest(agent, WAIT);
            Frame second = nextOfInterest(agent, WAIT);
            assertThat(first).isInstanceOf(Frame.Request.class);
            assertThat(second).isEqualTo(new Frame.Pong(BARRIER));
            tunnel.closeStream(streamId);
        }
    }

    @Test
    void aStreamThatEndsWithoutItsRequestReleasesTheBarrierToo() {
        try (FakeAgent agent = FakeAgent.registered(port(), "agent-barrier-2", IngressTest.TOKEN, null, "barrier2.test")) {
            TunnelSession tunnel = session("agent-barrier-2");
            int streamId = tunnel.openStream(new IgnoringListener());

            agent.send(new Frame.Drain("agent shutting down"));
            agent.send(new Frame.Ping(BARRIER));
            assertThat(nextOfInterest(agent, Duration.ofMillis(300))).isNull();
            tunnel.closeStream(streamId); // e.g. the public client left before the REQUEST went out

            assertThat(nextOfInterest(agent, WAIT)).isEqualTo(new Frame.Pong(BARRIER));
        }
    }

    @Test
    void theIngressesOwnDrainDoesNotOvertakeAPendingRequest() {
        try (FakeAgent agent = FakeAgent.registered(port(), "agent-barrier-3", IngressTest.TOKEN, null, "barrier3.test")) {
            TunnelSession tunnel = session("agent-barrier-3");
            int streamId = tunnel.openStream(new IgnoringListener());

            tunnel.drain("scale-in");
            assertThat(nextOfInterest(agent, Duration.ofMillis(300))).isNull();
            tunnel.send(new Frame.Request(streamId, "GET", "/", "barrier3.test", "/", List.of(), true));

            List<Frame> order = new ArrayList<>();
            order.add(nextOfInterest(agent, WAIT));
            order.add(nextOfInterest(agent, WAIT));
            assertThat(order.get(0)).isInstanceOf(Frame.Request.class);
            assertThat(order.get(1)).isInstanceOf(Frame.Drain.class);
            agent.send(new Frame.Reset(streamId, ResetCode.CANCEL, "test done"));
        }
    }

    private int port() {
        return server.port();
    }

    @Autowired
    TunnelServer server;

    private TunnelSession session(String agentId) {
        return (TunnelSession) registry.byAgent().get(agentId).get(0);
    }

    /** The next frame other than the ingress's heartbeat Pings, or null. */
    private static Frame nextOfInterest(FakeAgent agent, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Frame frame = agent.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (frame != null && !(frame instanceof Frame.Ping)) {
                return frame;
            }
        }
        return null;
    }

    private static final class IgnoringListener implements StreamListener {
        @Override
        public void onResponse(Frame.Response response) {}

        @Override
        public void onData(Frame.Data data) {
            data.content().release();
        }

        @Override
        public void onTrailers(Frame.Trailers trailers) {}

        @Override
        public void onWindowUpdate(int increment) {}

        @Override
        public void onReset(Frame.Reset reset) {}

        @Override
        public void onTunnelClosed(String reason) {}
    }
}
