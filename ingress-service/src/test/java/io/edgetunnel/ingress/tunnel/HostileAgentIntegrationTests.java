package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.netty.buffer.Unpooled;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Agents that break the protocol on purpose, through the real ingress: each is cut off with its own
 * close code while a well-behaved agent on another host keeps serving.
 */
@IngressTest
@ExtendWith(OutputCaptureExtension.class)
class HostileAgentIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** {@code ingress.tunnel.initial-stream-window} default: what an agent may send per stream unasked. */
    private static final int WINDOW = 262144;

    @Autowired
    TunnelServer server;

    @Autowired
    AgentRegistry registry;

    @LocalServerPort
    int publicPort;

    @Test
    void agentClaimingAStreamItWasNotGivenIsCutOffWithStreamError() {
        try (FakeAgent good = good("good1.test");
                FakeAgent hostile = FakeAgent.registered(server.port(), "hostile-claim", IngressTest.TOKEN, null,
                        "hostile1.test")) {
            hostile.send(new Frame.Data(77, Unpooled.wrappedBuffer(new byte[] {1, 2, 3}), false));

            assertThat(hostile.closeStatus(WAIT)).isEqualTo(CloseCode.STREAM_ERROR.code());
            assertThat(registry.tunnelCount("hostile1.test")).isZero();
            assertGoodServes("good1.test", good);
        }
    }

    @Test
    void agentSendingPastItsWindowIsCutOffWithFlowControlError(CapturedOutput output) throws Exception {
        try (FakeAgent good = good("good2.test");
                FakeAgent hostile = FakeAgent.registered(server.port(), "hostile-window", IngressTest.TOKEN,
                        (agent, request, body) -> {
                            agent.send(new Frame.Response(request.streamId(), 200, List.of(), false));
                            // 32 windows in one burst, ignoring every window update: far past any credit
                            byte[] chunk = new byte[32 * 1024];
                            for (int i = 0; i < 32 * WINDOW / chunk.length; i++) {
                                agent.send(new Frame.Data(request.streamId(), Unpooled.wrappedBuffer(chunk), false));
                            }
                        },
                        "hostile2.test");
                Socket client = new Socket()) {
            client.setReceiveBufferSize(4096);
            client.connect(new java.net.InetSocketAddress("127.0.0.1", publicPort));
            OutputStream out = client.getOutputStream();
            // a client that never reads: the ingress can only grant what its own buffers absorb
            out.write("GET /big HTTP/1.1\r\nHost: hostile2.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();

            // the agent keeps writing after the close frame, so its TCP stack may reset the connection and
            // drop that frame before it is read (-1): the ingress's own record of the close is the proof
            assertThat(hostile.closeStatus(WAIT)).isIn(CloseCode.FLOW_CONTROL_ERROR.code(), -1);
            org.awaitility.Awaitility.await().atMost(WAIT).until(() -> output.getOut()
                    .contains("(agent 'hostile-window', ") && output.getOut().contains(") closed with FLOW_CONTROL_ERROR"));
            assertThat(registry.tunnelCount("hostile2.test")).isZero();
            assertGoodServes("good2.test", good);
        }
    }

    private FakeAgent good(String host) {
        return FakeAgent.registered(server.port(), "good-" + host, IngressTest.TOKEN,
                (agent, request, body) -> agent.respond(request.streamId(), 200, List.of(),
                        "good".getBytes(StandardCharsets.UTF_8)),
                host);
    }

    private void assertGoodServes(String host, FakeAgent good) {
        Http.Reply reply = Http.get(publicPort, host, "/");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("good");
        assertThat(good.isClosed()).isFalse();
    }
}
