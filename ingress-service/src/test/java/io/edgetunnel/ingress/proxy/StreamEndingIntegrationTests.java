package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * How public streams end when their agent goes. A WebSocket gets a close frame with 1014 and a
 * reason (not a bare close, which a browser reports as 1005); a streamed response is aborted. Either
 * way the access log gets its one line with the outcome, at WARN, and nothing logs an ERROR or a
 * stack trace for what is an expected event.
 */
@IngressTest
@ExtendWith(OutputCaptureExtension.class)
class StreamEndingIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @LocalServerPort
    int publicPort;

    @Autowired
    TunnelServer tunnelServer;

    /** The JDK's WebSocket client, remembering the close it got (or -1 for a connection lost without one). */
    private static final class Client implements WebSocket.Listener {
        final CompletableFuture<List<Object>> closed = new CompletableFuture<>();

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(List.of(statusCode, reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(List.of(-1, error.toString()));
        }
    }

    @Test
    void socketWhoseAgentIsLostClosesWith1014AndIsLoggedOnceWithItsOutcome(CapturedOutput output) throws Exception {
        FakeAgent agent = FakeAgent.registered(tunnelServer.port(), "agent-ws-end", IngressTest.TOKEN, null,
                "127.0.0.1"); // the JDK client always sends Host: 127.0.0.1:<port>
        Client listener = new Client();
        CompletableFuture<WebSocket> socket = HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .header("X-Request-Id", "req-ws-lost")
                .buildAsync(URI.create("ws://127.0.0.1:" + publicPort + "/live"), listener);
        Frame.Request upgrade = agent.await(Frame.Request.class, WAIT);
        agent.send(new Frame.Response(upgrade.streamId(), 101, List.of(), false));
        socket.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        agent.reset(); // the agent's host vanishes

        List<Object> close = listener.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(close.get(0)).as("close status, reason: %s", close.get(1)).isEqualTo(1014);
        assertThat(close.get(1)).isEqualTo("upstream failed");

        await().atMost(WAIT).until(() -> output.getAll().contains("request_id=req-ws-lost GET"));
        List<String> lines = Arrays.stream(output.getAll().split("\n")).filter(l -> l.contains("req-ws-lost")).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains(" WARN ").contains("-> 101").contains("outcome=agent_error")
                .contains("agent=agent-ws-end");
        assertThat(output.getAll()).doesNotContain(" ERROR ").doesNotContain("\tat ");
        agent.close();
    }

    @Test
    void eventStreamCutByAgentLossIsAbortedAndLoggedOnceWithoutAnError(CapturedOutput output) throws Exception {
        FakeAgent agent = FakeAgent.registered(tunnelServer.port(), "agent-sse-end", IngressTest.TOKEN, null,
                "sse-end.test");
        CompletableFuture<String> events = new CompletableFuture<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Http.client(publicPort, "sse-end.test")
                .headers(h -> h.set("X-Request-Id", "req-sse-lost").set("Accept", "text/event-stream"))
                .get()
                .uri("/events")
                .responseContent()
                .asString()
                .subscribe(events::complete, ended::complete, () -> ended.complete(null));
        Frame.Request request = agent.await(Frame.Request.class, WAIT);
        agent.send(new Frame.Response(request.streamId(), 200,
                List.of(new Header("Content-Type", "text/event-stream")), false));
        agent.send(new Frame.Data(request.streamId(), Unpooled.copiedBuffer("data: one\n\n", StandardCharsets.UTF_8),
                false));
        assertThat(events.get(WAIT.toSeconds(), TimeUnit.SECONDS)).contains("data: one");

        agent.reset();

        assertThat(ended.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the client sees an abort, not a clean end")
                .isNotNull();
        await().atMost(WAIT).until(() -> output.getAll().contains("request_id=req-sse-lost GET"));
        List<String> lines = Arrays.stream(output.getAll().split("\n")).filter(l -> l.contains("req-sse-lost")).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains(" WARN ").contains("-> 200 aborted").contains("outcome=agent_error");
        assertThat(output.getAll()).doesNotContain(" ERROR ").doesNotContain("\tat ");
        agent.close();
    }

    @Test
    void socketWhoseClientVanishesIsLoggedOnceAndTheAgentIsTold(CapturedOutput output) throws Exception {
        FakeAgent agent = FakeAgent.registered(tunnelServer.port(), "agent-ws-gone", IngressTest.TOKEN, null,
                "127.0.0.1");
        try {
            CompletableFuture<WebSocket> opening = HttpClient.newHttpClient()
                    .newWebSocketBuilder()
                    .header("X-Request-Id", "req-ws-vanished")
                    .buildAsync(URI.create("ws://127.0.0.1:" + publicPort + "/live"), new Client());
            Frame.Request upgrade = agent.await(Frame.Request.class, WAIT);
            agent.send(new Frame.Response(upgrade.streamId(), 101, List.of(), false));
            WebSocket socket = opening.get(WAIT.toSeconds(), TimeUnit.SECONDS);

            socket.abort(); // no close frame: the client's machine went away

            // the agent hears of it (the stream ends), and the access line is written once
            assertThat(agent.await(Frame.Reset.class, WAIT).streamId()).isEqualTo(upgrade.streamId());
            await().atMost(WAIT).until(() -> output.getAll().contains("request_id=req-ws-vanished GET"));
            List<String> lines = Arrays.stream(output.getAll().split("\n"))
                    .filter(l -> l.contains("req-ws-vanished")).toList();
            assertThat(lines).hasSize(1);
            assertThat(lines.get(0)).contains("-> 101").contains("outcome=client_abort");
            assertThat(output.getAll()).doesNotContain(" ERROR ").doesNotContain("\tat ");
        } finally {
            agent.close();
        }
    }
}
