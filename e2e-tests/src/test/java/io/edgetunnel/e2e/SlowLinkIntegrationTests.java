package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.LatencyRelay;
import io.edgetunnel.e2e.support.Payloads;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import reactor.core.publisher.Flux;

/**
 * The agent behind a link slower than its clients (a {@link LatencyRelay} capped at 16 MB/s each way):
 * many concurrent uploads, each allowed a 256 KiB window, together have far more in flight than the
 * link and the sockets hold. The ingress must pace them through its tunnel queue (spec section 8.2)
 * instead of queueing every window and cutting the tunnel as a slow consumer once the queue passes
 * {@code ingress.tunnel.max-queued-bytes} (4 MB here, 48 windows being 12 MiB).
 */
@ExtendWith({NoLeaks.class, OutputCaptureExtension.class})
class SlowLinkIntegrationTests {

    private static final String HOST = "up.slow.example";
    private static final int UPLOADS = 48;
    private static final long BYTES = 1024 * 1024;

    @Test
    void manyUploadsOverASlowLinkAllCompleteAndTheTunnelStaysUp(CapturedOutput output) throws Exception {
        try (UpstreamApp upstream = new UpstreamApp("slow");
                IngressNode ingress = IngressNode.start("ingress.tunnel.max-queued-bytes=4MB");
                LatencyRelay relay = new LatencyRelay(ingress.tunnelPort(), Duration.ZERO, 16_000_000);
                AgentNode agent = AgentNode.startAt("ws://127.0.0.1:" + relay.port() + "/tunnel", "agent-slow",
                        AgentNode.route(HOST, upstream.url()))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> ingress.registry().tunnelCount(HOST) == 1);

            List<String> replies = Flux.range(0, UPLOADS)
                    .flatMap(i -> PublicClient.to(ingress, HOST)
                            .responseTimeout(Duration.ofSeconds(60))
                            .headers(h -> h.set("Content-Length", BYTES))
                            .post()
                            .uri("/sha256")
                            .send(Payloads.stream(BYTES, 64 * 1024))
                            .responseSingle(PublicClient::reply)
                            .map(reply -> reply.status() + " " + reply.body()), UPLOADS)
                    .collectList()
                    .block(Duration.ofSeconds(120));

            assertThat(replies).hasSize(UPLOADS)
                    .allSatisfy(reply -> assertThat(reply).isEqualTo("200 " + BYTES + " " + Payloads.sha256(BYTES, 0)));
            assertThat(output.getOut()).as("the tunnel was never cut").doesNotContain("peer not reading");
            assertThat(ingress.registry().tunnelCount(HOST)).isEqualTo(1);
        }
    }
}
