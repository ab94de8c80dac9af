package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.cluster.ReplicaInfo;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

@IngressTest
class TunnelHandshakeIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Autowired
    TunnelServer server;

    @Autowired
    AgentRegistry registry;

    @Autowired
    IngressMetrics metrics;

    @Autowired
    ReplicaInfo replica;

    @AfterEach
    void noTunnelsLeft() {
        await().atMost(WAIT).until(() -> registry.tunnelCount() == 0);
    }

    @Test
    void wrongTokenIsRejectedWithBadCredentialsAndNothingIsRegistered() {
        double before = metrics.registrations("rejected", "BAD_CREDENTIALS");
        try (FakeAgent agent = FakeAgent.hello(server.port(), "/tunnel", "intruder", "wrong-token", "victim.test")) {
            Frame.Reject reject = agent.await(Frame.Reject.class, WAIT);

            assertThat(reject.reason()).isEqualTo(RejectReason.BAD_CREDENTIALS);
            assertThat(reject.message()).doesNotContain("wrong-token").doesNotContain(IngressTest.TOKEN);
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.REJECTED.code());
        }
        assertThat(metrics.registrations("rejected", "BAD_CREDENTIALS")).isEqualTo(before + 1);
        assertThat(registry.tunnelCount("victim.test")).isZero();
    }

    @Test
    void emptyTokenIsRejected() {
        try (FakeAgent agent = FakeAgent.hello(server.port(), "/tunnel", "anonymous", "", "victim.test")) {
            assertThat(agent.await(Frame.Reject.class, WAIT).reason()).isEqualTo(RejectReason.BAD_CREDENTIALS);
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.REJECTED.code());
        }
    }

    @Test
    void goodHelloIsAcceptedWithTheConfiguredLimitsAndRegistered() {
        try (FakeAgent agent = FakeAgent.hello(server.port(), "/tunnel", "agent-1", IngressTest.TOKEN, "good.test",
                "*.good.test")) {
            Frame.Accept accept = agent.await(Frame.Accept.class, WAIT);

            assertThat(accept.version()).isEqualTo(2);
            assertThat(accept.replicaId()).isNotEmpty().isEqualTo(replica.replicaId());
            assertThat(accept.replicaCount()).isEqualTo(1);
            assertThat(accept.maxFramePayload()).isEqualTo(65536);
            assertThat(accept.initialStreamWindow()).isEqualTo(262144);
            assertThat(accept.maxConcurrentStreams()).isEqualTo(512);
            assertThat(accept.heartbeatIntervalMillis()).isEqualTo(20000);
            await().atMost(WAIT).until(() -> registry.tunnelCount("good.test") == 1);
            assertThat(registry.tunnelCount("x.good.test")).isEqualTo(1);
        }
        await().atMost(WAIT).until(() -> registry.tunnelCount("good.test") == 0);
    }

    @Test
    void anAgentOfferingOnlyVersionOneIsAcceptedWithoutReplicaFields() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.send(new Frame.Hello(1, 1, "old-agent", IngressTest.TOKEN, "", List.of(RouteClaim.host("old.test")),
                    Map.of()));
            Frame.Accept accept = agent.await(Frame.Accept.class, WAIT);

            assertThat(accept.version()).isEqualTo(1);
            assertThat(accept.carriesReplica()).isFalse();
            await().atMost(WAIT).until(() -> registry.tunnelCount("old.test") == 1);
        }
    }

    @Test
    void pingIsAnsweredWithPong() {
        try (FakeAgent agent = FakeAgent.registered(server.port(), "agent-ping", IngressTest.TOKEN, null, "ping.test")) {
            agent.send(new Frame.Ping(42));
            assertThat(agent.await(Frame.Pong.class, WAIT).payload()).isEqualTo(42);
        }
    }

    @Test
    void unsupportedVersionIsRejected() {
        double before = metrics.registrations("rejected", "UNSUPPORTED_VERSION");
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.send(new Frame.Hello(7, 9, "future", IngressTest.TOKEN, "", List.of(RouteClaim.host("v.test")),
                    Map.of()));
            assertThat(agent.await(Frame.Reject.class, WAIT).reason()).isEqualTo(RejectReason.UNSUPPORTED_VERSION);
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.REJECTED.code());
        }
        assertThat(metrics.registrations("rejected", "UNSUPPORTED_VERSION")).isEqualTo(before + 1);
    }

    @Test
    void tooManyRoutesIsRejected() {
        double before = metrics.registrations("rejected", "TOO_MANY_ROUTES");
        try (FakeAgent agent = FakeAgent.hello(server.port(), "/tunnel", "greedy", IngressTest.TOKEN,
                "a.test", "b.test", "c.test", "d.test", "e.test")) {
            assertThat(agent.await(Frame.Reject.class, WAIT).reason()).isEqualTo(RejectReason.TOO_MANY_ROUTES);
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.REJECTED.code());
        }
        assertThat(registry.tunnelCount("a.test")).isZero();
        assertThat(metrics.registrations("rejected", "TOO_MANY_ROUTES")).isEqualTo(before + 1);
    }

    @Test
    void noHelloClosesWithHelloTimeout() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.HELLO_TIMEOUT.code());
        }
    }

    @Test
    void garbageBytesCloseWithProtocolErrorAndTheServerKeepsServing() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {(byte) 0xEE, 1, 2, 3, 4, 5, 6})));
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.PROTOCOL_ERROR.code());
        }
        assertGoodAgentStillAccepted();
    }

    @Test
    void truncatedFrameClosesWithProtocolError() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 0})));
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.PROTOCOL_ERROR.code());
        }
        assertGoodAgentStillAccepted();
    }

    @Test
    void textFrameClosesWithProtocolError() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.sendRaw(new TextWebSocketFrame("hello?"));
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.PROTOCOL_ERROR.code());
        }
        assertGoodAgentStillAccepted();
    }

    @Test
    void oversizedFrameClosesWithFrameTooLarge() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[65536 + 1])));
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.FRAME_TOO_LARGE.code());
        }
        assertGoodAgentStillAccepted();
    }

    @Test
    void hugeWebSocketMessageIsRefusedByTheWebSocketLayer() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[4 * 1024 * 1024])));
            assertThat(agent.closeStatus(WAIT)).isIn(1009, CloseCode.FRAME_TOO_LARGE.code(), -1);
        }
        assertGoodAgentStillAccepted();
    }

    @Test
    void frameBeforeHelloClosesWithProtocolError() {
        try (FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel")) {
            agent.send(new Frame.Ping(1));
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.PROTOCOL_ERROR.code());
        }
    }

    @Test
    void frameForAStreamNeverOpenedClosesWithStreamError() {
        try (FakeAgent agent = FakeAgent.registered(server.port(), "agent-rogue", IngressTest.TOKEN, null, "rogue.test")) {
            agent.send(new Frame.Response(999, 200, List.of(), true));
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.STREAM_ERROR.code());
        }
        assertThat(registry.tunnelCount("rogue.test")).isZero();
    }

    @Test
    void silentAgentIsNotKeptForeverButAnsweringAgentIs() {
        try (FakeAgent agent = FakeAgent.registered(server.port(), "agent-quiet", IngressTest.TOKEN, null, "quiet.test")) {
            assertThat(agent.isClosed()).isFalse();
            assertThat(registry.tunnelCount("quiet.test")).isEqualTo(1);
        }
    }

    private void assertGoodAgentStillAccepted() {
        try (FakeAgent good = FakeAgent.registered(server.port(), "agent-good", IngressTest.TOKEN, null, "after.test")) {
            assertThat(registry.tunnelCount("after.test")).isEqualTo(1);
        }
    }
}
