package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.SignalType;

/**
 * Transfers of hundreds of MiB through the real tunnel. Tagged {@code bulk}: they run in their own
 * Surefire execution with sampled leak detection (see e2e-tests/pom.xml).
 */
@Tag("bulk")
@ExtendWith(NoLeaks.class)
class BulkTransferIntegrationTests {

    private static final int WINDOW = 256 * 1024;

    private static UpstreamApp upstream;
    private static IngressNode ingress;
    private static AgentNode agent;

    @BeforeAll
    static void start() {
        upstream = new UpstreamApp("bulk");
        ingress = IngressNode.start("ingress.tunnel.initial-stream-window=" + WINDOW);
        agent = AgentNode.start(ingress, "agent-bulk", AgentNode.route("bulk.example", upstream.url()));
        await().atMost(Duration.ofSeconds(60)).until(() -> ingress.registry().tunnelCount("bulk.example") == 1);
    }

    @AfterAll
    static void stop() {
        agent.close();
        ingress.close();
        upstream.close();
    }

    @Test
    void slowReaderOfA512MibDownloadKeepsBufferedBytesWithinTheWindow() throws InterruptedException {
        AtomicLong received = new AtomicLong();
        AtomicReference<Subscription> subscription = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        var done = new CountDownLatch(1);
        long producedBefore = upstream.downloadBytesProduced.get();
        long downloadBytes = 512L * 1024 * 1024;

        PublicClient.to(ingress, "bulk.example")
                .get()
                .uri("/download?mib=512")
                .response((res, body) -> body)
                .subscribe(new BaseSubscriber<ByteBuf>() {
                    @Override
                    protected void hookOnSubscribe(Subscription s) {
                        subscription.set(s);
                        s.request(1);
                    }

                    @Override
                    protected void hookOnNext(ByteBuf buf) {
                        received.addAndGet(buf.readableBytes());
                    }

                    @Override
                    protected void hookOnError(Throwable t) {
                        failure.set(t);
                    }

                    @Override
                    protected void hookFinally(SignalType type) {
                        done.countDown();
                    }
                });

        // the client reads one chunk, then stops reading: everything behind it must stall, bounded
        double maxIngressBuffered = 0;
        double maxAgentBuffered = 0;
        for (int i = 0; i < 30; i++) {
            Thread.sleep(100);
            maxIngressBuffered = Math.max(maxIngressBuffered, ingress.gauge("tunnel.ingress.buffered.bytes"));
            maxAgentBuffered = Math.max(maxAgentBuffered, agent.tunnels().bufferedBytes());
        }
        long producedWhilePaused = upstream.downloadBytesProduced.get() - producedBefore;

        assertThat(maxIngressBuffered).isLessThanOrEqualTo(WINDOW);
        assertThat(maxAgentBuffered).isLessThanOrEqualTo(WINDOW);
        assertThat(producedWhilePaused)
                .as("backpressure reaches the local app: it produced only window + socket buffers")
                .isLessThan(64L * 1024 * 1024);

        assertThat(received.get()).as("the first chunk arrived").isPositive();
        subscription.get().request(Long.MAX_VALUE);
        assertThat(done.await(120, TimeUnit.SECONDS))
                .as("download finished; received %d bytes", received.get())
                .isTrue();
        assertThat(failure.get()).isNull();
        assertThat(received.get()).isEqualTo(downloadBytes);
        await().atMost(Duration.ofSeconds(10)).until(() -> ingress.gauge("tunnel.ingress.buffered.bytes") == 0);
    }

}
