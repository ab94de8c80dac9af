package io.edgetunnel.ingress.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

/** Every log line about a public request carries its X-Request-Id, the same id the agent and the client see. */
@IngressTest
@ExtendWith(OutputCaptureExtension.class)
class RequestLogIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @LocalServerPort
    int publicPort;

    @Autowired
    TunnelServer tunnelServer;

    private FakeAgent agent;

    @BeforeEach
    void agent() {
        agent = FakeAgent.registered(tunnelServer.port(), "agent-log", IngressTest.TOKEN, (a, request, body) -> {
            int status = request.target().startsWith("/fail") ? 500 : 200;
            a.respond(request.streamId(), status, List.of(), "ok".getBytes(StandardCharsets.UTF_8));
        }, "log.test");
    }

    @AfterEach
    void close() {
        agent.close();
    }

    private static Http.Reply get(int port, String host, String path, String requestId) {
        return Http.client(port, host)
                .headers(h -> {
                    if (requestId != null) {
                        h.set("X-Request-Id", requestId);
                    }
                })
                .get()
                .uri(path)
                .responseSingle(Http::reply)
                .block(WAIT);
    }

    private static String forwardedId(Frame.Request request) {
        return request.headers().stream()
                .filter(h -> h.name().equalsIgnoreCase("X-Request-Id"))
                .map(Header::value)
                .findFirst()
                .orElse(null);
    }

    private static String lineWith(CapturedOutput output, String text) {
        await().atMost(WAIT).until(() -> output.getAll().contains(text));
        return Arrays.stream(output.getAll().split("\n")).filter(line -> line.contains(text)).findFirst().orElseThrow();
    }

    @Test
    void proxiedRequestIsLoggedAtInfoWithTheClientsRequestIdWhichTheAgentAndClientSee(CapturedOutput output) {
        Http.Reply reply = get(publicPort, "log.test", "/page", "client-id-42");

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.headers().get("X-Request-Id")).isEqualTo("client-id-42");
        assertThat(forwardedId(agent.requests().get(agent.requests().size() - 1))).isEqualTo("client-id-42");
        String line = lineWith(output, "request_id=client-id-42 ");
        assertThat(line).contains(" INFO ").contains("GET log.test/page -> 200 completed");
    }

    @Test
    void requestWithoutAnIdGetsOneSharedByTheLogTheAgentAndTheClient(CapturedOutput output) {
        Http.Reply reply = get(publicPort, "log.test", "/no-id", null);

        String id = reply.headers().get("X-Request-Id");
        assertThat(id).isNotBlank();
        assertThat(forwardedId(agent.requests().get(agent.requests().size() - 1))).isEqualTo(id);
        assertThat(lineWith(output, "request_id=" + id + " ")).contains("GET log.test/no-id -> 200");
    }

    @Test
    void garbageRequestIdIsReplacedEverywhere(CapturedOutput output) {
        Http.Reply reply = get(publicPort, "log.test", "/garbage", "{bad id with spaces}");

        String id = reply.headers().get("X-Request-Id");
        assertThat(id).isNotEqualTo("{bad id with spaces}");
        assertThat(forwardedId(agent.requests().get(agent.requests().size() - 1))).isEqualTo(id);
        assertThat(lineWith(output, "request_id=" + id + " ")).contains("/garbage");
        assertThat(output.getAll()).doesNotContain("{bad id with spaces}");
    }

    @Test
    void serverErrorIsLoggedAtWarnWithItsRequestId(CapturedOutput output) {
        Http.Reply reply = get(publicPort, "log.test", "/fail", "failing-request-7");

        assertThat(reply.status()).isEqualTo(500);
        assertThat(lineWith(output, "request_id=failing-request-7 ")).contains(" WARN ").contains("-> 500");
    }

    @Test
    void unknownHostIsLoggedWithItsRequestId(CapturedOutput output) {
        Http.Reply reply = get(publicPort, "nobody.test", "/", "unknown-host-9");

        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.headers().get("X-Request-Id")).isEqualTo("unknown-host-9");
        assertThat(lineWith(output, "request_id=unknown-host-9 ")).contains("nobody.test/ -> 404");
    }

    @Autowired
    org.springframework.boot.logging.LoggingSystem loggingSystem;

    @Test
    void theAccessLogSwitchesOffWithItsLoggerLevelWhileRequestIdsKeepFlowing(CapturedOutput output)
            throws InterruptedException {
        loggingSystem.setLogLevel("io.edgetunnel.ingress.access", org.springframework.boot.logging.LogLevel.OFF);
        try {
            Http.Reply quiet = get(publicPort, "log.test", "/quiet", "quiet-id-1");
            assertThat(quiet.status()).isEqualTo(200);
            assertThat(quiet.headers().get("X-Request-Id")).isEqualTo("quiet-id-1");
            // the access line is written once the response finished on the server, which can be just
            // after the client has it: the level stays OFF until that has surely happened
            Thread.sleep(500);
        } finally {
            loggingSystem.setLogLevel("io.edgetunnel.ingress.access", null);
        }
        // a request after it proves lines are written in order and the earlier one really was not
        get(publicPort, "log.test", "/loud", "loud-id-1");
        lineWith(output, "request_id=loud-id-1 ");
        assertThat(output.getAll()).doesNotContain("request_id=quiet-id-1 ");
    }
}
