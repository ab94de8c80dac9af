package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.Payloads;
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

    /** 2 GiB by default; {@code -De2e.bulk.mib=1024} on a slow machine. */
    private static final long LARGE_BYTES = Long.getLong("e2e.bulk.mib", 2048L) * 1024 * 1024;

    /** SHA-256 of the deterministic {@link Payloads} body of {@link #LARGE_BYTES}, computed once in the background. */
    private static final java.util.concurrent.CompletableFuture<String> LARGE_SHA256 =
            java.util.concurrent.CompletableFuture.supplyAsync(() -> Payloads.sha256(LARGE_BYTES, 0));

    /** Samples the buffered-bytes gauges of both sides every 20 ms until closed. */
    private static final class GaugeSampler implements AutoCloseable {
        final AtomicLong maxIngress = new AtomicLong();
        final AtomicLong maxAgent = new AtomicLong();
        final AtomicLong samples = new AtomicLong();
        final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

        GaugeSampler() {
            timer.scheduleAtFixedRate(() -> {
                maxIngress.accumulateAndGet((long) ingress.gauge("tunnel.ingress.buffered.bytes"), Math::max);
                maxAgent.accumulateAndGet(agent.tunnels().bufferedBytes(), Math::max);
                samples.incrementAndGet();
            }, 0, 20, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

    @Test
    void largeDownloadKeepsItsChecksumAndBufferedBytesWithinTheWindow() throws Exception {
        long start = System.nanoTime();
        PublicClient.Digest digest;
        GaugeSampler sampler = new GaugeSampler();
        try (sampler) {
            digest = PublicClient.to(ingress, "bulk.example")
                    .responseTimeout(Duration.ofSeconds(300))
                    .get()
                    .uri("/bytes?size=" + LARGE_BYTES)
                    .response(PublicClient::digest)
                    .single()
                    .block(Duration.ofSeconds(300));
        }
        System.out.printf("download of %d MiB: %d ms, max buffered ingress %d / agent %d over %d samples%n",
                LARGE_BYTES >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                sampler.maxIngress.get(), sampler.maxAgent.get(), sampler.samples.get());
        assertThat(digest.status()).isEqualTo(200);
        assertThat(digest.length()).isEqualTo(LARGE_BYTES);
        assertThat(digest.sha256()).isEqualTo(LARGE_SHA256.get(300, TimeUnit.SECONDS));
        assertThat(sampler.samples.get()).isGreaterThan(10);
        assertThat(sampler.maxIngress.get()).isLessThanOrEqualTo(WINDOW);
        assertThat(sampler.maxAgent.get()).isLessThanOrEqualTo(WINDOW);
    }

    @Test
    void largeUploadKeepsItsChecksumAndBufferedBytesWithinTheWindow() throws Exception {
        long start = System.nanoTime();
        PublicClient.Reply reply;
        GaugeSampler sampler = new GaugeSampler();
        try (sampler) {
            reply = PublicClient.to(ingress, "bulk.example")
                    .responseTimeout(Duration.ofSeconds(300))
                    .headers(h -> h.set("Content-Length", LARGE_BYTES))
                    .post()
                    .uri("/sha256")
                    .send(Payloads.stream(LARGE_BYTES, 64 * 1024))
                    .responseSingle(PublicClient::reply)
                    .block(Duration.ofSeconds(300));
        }
        System.out.printf("upload of %d MiB: %d ms, max buffered ingress %d / agent %d over %d samples%n",
                LARGE_BYTES >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                sampler.maxIngress.get(), sampler.maxAgent.get(), sampler.samples.get());
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo(LARGE_BYTES + " " + LARGE_SHA256.get(300, TimeUnit.SECONDS));
        assertThat(sampler.samples.get()).isGreaterThan(10);
        assertThat(sampler.maxIngress.get()).isLessThanOrEqualTo(WINDOW);
        assertThat(sampler.maxAgent.get()).isLessThanOrEqualTo(WINDOW);
    }
}
