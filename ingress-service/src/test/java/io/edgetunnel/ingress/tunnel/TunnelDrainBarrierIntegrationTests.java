package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.session.StreamEnd;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.TunnelStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The agent's drain barrier (protocol section 10): a Ping sent after the agent's Drain is answered only
 * behind the REQUEST of every stream the ingress opened before the Drain; and the ingress's own Drain
 * never overtakes such a REQUEST either. Opening a stream queues its REQUEST in the same step, on the
 * tunnel's event loop, so these orders hold by construction; the tests open from a foreign thread.
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
            // a public request picked this tunnel and opened its stream
            TunnelStream stream = open(tunnel, "barrier.test");
            assertThat(stream).isNotNull();

            agent.send(new Frame.Drain("agent shutting down"));
            agent.send(new Frame.Ping(BARRIER));

            Frame first = nextOfInterest(agent, WAIT);
            Frame second = nextOfInterest(agent, WAIT);
            assertThat(first).isInstanceOf(Frame.Request.class);
            assertThat(first.streamId()).isEqualTo(stream.id());
            assertThat(second).isEqualTo(new Frame.Pong(BARRIER));
            assertThat(open(tunnel, "barrier.test")).as("no new stream after the Drain").isNull();
            stream.reset(ResetCode.CANCEL, "test done");
        }
    }

    @Test
    void aStreamThatEndsBeforeItsRequestWentOutDoesNotHoldTheBarrier() {
        try (FakeAgent agent = FakeAgent.registered(port(), "agent-barrier-2", IngressTest.TOKEN, null, "barrier2.test")) {
            TunnelSession tunnel = session("agent-barrier-2");
            TunnelStream stream = open(tunnel, "barrier2.test");
            stream.reset(ResetCode.CANCEL, "the public client left"); // e.g. before the REQUEST went out

            agent.send(new Frame.Drain("agent shutting down"));
            agent.send(new Frame.Ping(BARRIER));

            Frame frame;
            do {
                frame = nextOfInterest(agent, WAIT);
            } while (frame instanceof Frame.Request || frame instanceof Frame.Reset);
            assertThat(frame).isEqualTo(new Frame.Pong(BARRIER));
        }
    }

    @Test
    void theIngressesOwnDrainDoesNotOvertakeAPendingRequest() {
        try (FakeAgent agent = FakeAgent.registered(port(), "agent-barrier-3", IngressTest.TOKEN, null, "barrier3.test")) {
            TunnelSession tunnel = session("agent-barrier-3");
            TunnelStream stream = open(tunnel, "barrier3.test");

            tunnel.drain("scale-in");

            List<Frame> order = new ArrayList<>();
            order.add(nextOfInterest(agent, WAIT));
            order.add(nextOfInterest(agent, WAIT));
            assertThat(order.get(0)).isInstanceOf(Frame.Request.class);
            assertThat(order.get(1)).isInstanceOf(Frame.Drain.class);
            agent.send(new Frame.Reset(stream.id(), ResetCode.CANCEL, "test done"));
        }
    }

    /** Opens a stream from the test thread (not the tunnel's event loop), as a public request on another loop does. */
    private static TunnelStream open(TunnelSession tunnel, String host) {
        return tunnel.openStream(
                id -> new Frame.Request(id, "GET", "/", host, "/", List.of(), true), stream -> new IgnoringHandler(stream));
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

    private record IgnoringHandler(TunnelStream stream) implements StreamHandler {
        @Override
        public void onEnd(StreamEnd end) {
            stream.releaseBodies();
        }
    }
}
