package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.testsupport.NoLeaks;
import io.edgetunnel.ingress.support.OwnEventLoops;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A hostile agent that registers and then never reads its socket: the ingress paces its streams once
 * a quarter of {@code ingress.tunnel.max-queued-bytes} is queued, and when the queue then does not
 * move for {@link io.edgetunnel.protocol.stream.OutboundFrames#STALL_LIMIT} (or passes the limit) it
 * cuts that tunnel (SLOW_CONSUMER), fails its streams promptly and keeps serving everyone else.
 */
@ExtendWith({NoLeaks.class, OutputCaptureExtension.class})
class SlowConsumerAgentIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String TOKEN = "slow-consumer-token";

    @Test
    void agentThatNeverReadsIsCutOffWithSlowConsumerAndOthersKeepServing(CapturedOutput output) {
        SpringApplication application = OwnEventLoops.apply(IngressApplication.application());
        ConfigurableApplicationContext context = application.run(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=" + TOKEN, "--ingress.tunnel.max-queued-bytes=1MB",
                "--ingress.proxy.response-timeout=20s");
        int publicPort = ((WebServerApplicationContext) context).getWebServer().getPort();
        int tunnelPort = context.getBean(TunnelServer.class).port();
        AgentRegistry registry = context.getBean(AgentRegistry.class);
        try (FakeAgent good = FakeAgent.registered(tunnelPort, "good-agent", TOKEN,
                        (agent, request, body) -> agent.respond(request.streamId(), 200, List.of(),
                                "good".getBytes(StandardCharsets.UTF_8)),
                        "good.test");
                FakeAgent deaf = FakeAgent.registered(tunnelPort, "deaf-agent", TOKEN, null, "deaf.test")) {
            deaf.stopReading();

            // 80 uploads of 256 KiB each: every stream may send one window (256 KiB) unasked, 20 MiB in
            // all, far past what the socket buffers and the 1 MiB queue can hold for a peer that reads nothing
            byte[] chunk = new byte[256 * 1024];
            long start = System.nanoTime();
            List<Integer> statuses = Flux.range(0, 80)
                    .flatMap(i -> Http.client(publicPort, "deaf.test").post().uri("/upload")
                            .send(Mono.fromCallable(() -> io.netty.buffer.Unpooled.wrappedBuffer(chunk)))
                            .responseSingle((res, body) -> body.then(Mono.just(res.status().code())))
                            .onErrorReturn(-1), 80)
                    .collectList()
                    .block(WAIT);

            // every upload ends promptly, none waits for the 20 s response timeout: those in flight on the
            // cut tunnel with 502 (or an aborted connection), later ones with 503 (no agent left for the
            // host); and the ingress says why it cut the tunnel
            assertThat(statuses).hasSize(80).allMatch(status -> status == 502 || status == 503 || status == -1)
                    .contains(502);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
            await().atMost(WAIT).until(() -> output.getOut().contains("(agent 'deaf-agent', ")
                    && output.getOut().contains("closed with SLOW_CONSUMER"));
            assertThat(registry.tunnelCount("deaf.test")).isZero();

            Http.Reply reply = Http.get(publicPort, "good.test", "/");
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body()).isEqualTo("good");
            assertThat(good.isClosed()).isFalse();
        } finally {
            context.close();
        }
    }
}
