package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.ingress.support.EdgeIngressTest;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * The tunnel endpoint before authentication, against strangers: the real ingress with loopback as
 * the trusted proxy, so each test stands for its own client address through {@code X-Forwarded-For}
 * (at most 3 unauthenticated connections per source, 6 in all; back-off after 3 failures).
 */
@EdgeIngressTest
@ExtendWith(OutputCaptureExtension.class)
class PreAuthIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    TunnelServer server;

    private final List<FakeAgent> agents = new ArrayList<>();

    @BeforeEach
    void noStrangerLeft() {
        awaitNoUnauthenticated();
    }

    @AfterEach
    void closeAll() {
        agents.forEach(FakeAgent::close);
    }

    /** Slots are given back as the server sees each connection end, a moment after the client does. */
    private void awaitNoUnauthenticated() {
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> server.unauthenticatedConnections() == 0);
    }

    private FakeAgent connect(String... forwardedFor) {
        FakeAgent agent = FakeAgent.connect(server.port(), "/tunnel", List.of(forwardedFor));
        agents.add(agent);
        return agent;
    }

    @Test
    void unauthenticatedConnectionsAreCappedPerSourceAndInTotal() {
        FakeAgent first = connect("198.51.100.1");
        connect("198.51.100.1");
        connect("198.51.100.1");

        assertThatThrownBy(() -> connect("198.51.100.1")).hasMessageContaining("429");

        connect("198.51.100.2");
        connect("198.51.100.2");
        connect("198.51.100.3");
        assertThatThrownBy(() -> connect("198.51.100.4")).as("six unauthenticated in all")
                .hasMessageContaining("503");

        // an authenticated connection no longer counts: its source and the total have room again
        first.sayHello("capped-1", IngressTest.TOKEN, "capped.test");
        assertThat(first.await(Frame.Accept.class, WAIT)).isNotNull();
        connect("198.51.100.1");
    }

    @Test
    void messageLargerThanAHelloBeforeAuthenticationClosesTheTunnel(CapturedOutput output) {
        FakeAgent agent = connect("198.51.100.10");

        // under the tunnel frame limit (256 KiB), far over what a hello may be (32 KiB of strings)
        agent.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[200 * 1024])));

        assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.FRAME_TOO_LARGE.code());
        assertThat(output.getOut()).contains("bytes before authentication");
    }

    @Test
    void helloTimeoutsAndProtocolErrorsCountAsFailedHellos() {
        FakeAgent silent1 = connect("198.51.100.20");
        FakeAgent silent2 = connect("198.51.100.20");
        assertThat(silent1.closeStatus(WAIT)).isEqualTo(CloseCode.HELLO_TIMEOUT.code());
        assertThat(silent2.closeStatus(WAIT)).isEqualTo(CloseCode.HELLO_TIMEOUT.code());
        awaitNoUnauthenticated();
        FakeAgent garbage = connect("198.51.100.20");
        garbage.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {0x7f, 0, 0, 0, 1, 2})));
        assertThat(garbage.closeStatus(WAIT)).isIn(CloseCode.PROTOCOL_ERROR.code(), CloseCode.FRAME_TOO_LARGE.code());
        awaitNoUnauthenticated();
        FakeAgent badId = connect("198.51.100.20");
        badId.sayHello("", IngressTest.TOKEN, "counted.test");
        assertThat(badId.await(Frame.Reject.class, WAIT).reason()).isEqualTo(RejectReason.INVALID_HELLO);

        awaitNoUnauthenticated();
        FakeAgent honest = connect("198.51.100.20");
        honest.sayHello("honest", IngressTest.TOKEN, "counted.test");

        assertThat(honest.await(Frame.Reject.class, WAIT).reason()).isEqualTo(RejectReason.RATE_LIMITED);
    }

    @Test
    void theRateLimitKeyIsTheAddressTheProxyAppendedNotOneTheClientChose() {
        for (int i = 0; i < 4; i++) {
            // the client varies its own X-Forwarded-For line; the proxy's line names the same address
            FakeAgent guess = connect("203.0.113." + i, "198.51.100.30");
            guess.sayHello("guesser", "wrong-token-" + i, "keyed.test");
            assertThat(guess.await(Frame.Reject.class, WAIT).reason()).isEqualTo(RejectReason.BAD_CREDENTIALS);
            awaitNoUnauthenticated();
        }

        FakeAgent next = connect("192.0.2.99", "198.51.100.30");
        next.sayHello("guesser", IngressTest.TOKEN, "keyed.test");

        assertThat(next.await(Frame.Reject.class, WAIT).reason()).isEqualTo(RejectReason.RATE_LIMITED);
    }

    @Test
    void agentIdThatIsNotAPlainNameIsRejectedAndNeverLoggedAsSent(CapturedOutput output) {
        FakeAgent agent = connect("198.51.100.40");
        String forged = "x\n2026-12-06T00:00:00Z  INFO forged log line \u001b[31m" + "y".repeat(5000);

        agent.sayHello(forged, IngressTest.TOKEN, "logged.test");

        Frame.Reject reject = agent.await(Frame.Reject.class, WAIT);
        assertThat(reject.reason()).isEqualTo(RejectReason.INVALID_HELLO);
        assertThat(reject.message()).contains("expected: 1-128 letters");
        assertThat(output.getOut()).doesNotContain("\n2026-12-06T00:00:00Z  INFO forged").doesNotContain("\u001b[31m")
                .doesNotContain("y".repeat(200));
    }

    @Test
    void aRequestOnTheTunnelPathThatIsNoUpgradeHoldsNoSlot() throws Exception {
        String answer = io.edgetunnel.ingress.support.Http.raw(server.port(),
                "GET /tunnel HTTP/1.1\r\nHost: tunnel.test\r\nX-Forwarded-For: 198.51.100.50\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 ");
        awaitNoUnauthenticated();
    }
}
