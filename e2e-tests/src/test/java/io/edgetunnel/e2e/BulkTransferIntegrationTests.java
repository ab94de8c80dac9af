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
        // window growth off: these tests hold every buffer to the one fixed window (growth and its
        // budget: WindowGrowthIntegrationTests and InboundBodyTests)
        ingress = IngressNode.start("ingress.tunnel.initial-stream-window=" + WINDOW,
                "ingress.tunnel.max-stream-window=" + WINDOW);
        agent = AgentNode.start(ingress, "agent-bulk", AgentNode.route("bulk.example", upstream.url()),
                "agent.max-stream-window=" + WINDOW);
        await().atMost(Duration.ofSeconds(60)).until(() -> ingress.registry().tunnelCount("bulk.example") == 1);
    }

    @AfterAll
    static void stop() {
        agent.close();
        ingress.close();
        upstream.close();
    }

    /** The agent queues at most a window of DATA, plus 6-byte frame headers and small control frames. */
    private static final long AGENT_QUEUE_BOUND = WINDOW + 8 * 1024;
    /** Bytes per second the slow reader takes, well below what the tunnel moves on this machine. */
    private static final long SLOW_READ_RATE = 16L * 1024 * 1024;

    @Test
    void slowReaderOfA512MibDownloadKeepsBufferedBytesWithinTheWindow() throws InterruptedException {
        long downloadBytes = 512L * 1024 * 1024;
        long producedBefore = upstream.downloadBytesProduced.get();
        AtomicLong received = new AtomicLong();
        SlowReader reader = new SlowReader(received);
        GaugeSampler sampler = new GaugeSampler(() -> upstream.downloadBytesProduced.get() - producedBefore - received.get());
        long start = System.nanoTime();
        try (sampler; reader) {
            PublicClient.to(ingress, "bulk.example")
                    .responseTimeout(Duration.ofSeconds(300))
                    .get()
                    .uri("/download?mib=512")
                    .response((res, body) -> body)
                    .subscribe(reader);

            // first the client reads one chunk, then stops reading: everything behind it must stall, bounded
            Thread.sleep(3000);
            long producedWhilePaused = upstream.downloadBytesProduced.get() - producedBefore;
            assertThat(received.get()).as("the first chunk arrived").isPositive();
            assertThat(producedWhilePaused)
                    .as("backpressure reaches the local app: it produced only window + socket buffers")
                    .isLessThan(64L * 1024 * 1024);
            System.out.printf("slow reader paused after %d bytes: the app produced %d bytes%n",
                    received.get(), producedWhilePaused);

            // then it reads the rest slowly, at a fixed rate far below what the tunnel could move
            reader.readAt(SLOW_READ_RATE);
            assertThat(reader.done.await(200, TimeUnit.SECONDS))
                    .as("download finished; received %d bytes", received.get())
                    .isTrue();
        }
        System.out.printf("slow read of 512 MiB at %d MiB/s: %d ms; max buffered ingress %d, agent outbound queue %d, "
                        + "agent request buffer %d; app ahead of the reader by at most %d bytes; %d samples%n",
                SLOW_READ_RATE >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                sampler.maxIngress.get(), sampler.maxAgentQueued.get(), sampler.maxAgentBuffered.get(),
                sampler.maxAhead.get(), sampler.samples.get());
        assertThat(reader.failure.get()).isNull();
        assertThat(received.get()).isEqualTo(downloadBytes);
        assertThat(sampler.samples.get()).isGreaterThan(500);
        assertThat(sampler.maxIngress.get()).as("ingress buffered bytes").isLessThanOrEqualTo(WINDOW);
        assertThat(sampler.maxAgentQueued.get()).as("agent outbound queue").isLessThanOrEqualTo(AGENT_QUEUE_BOUND);
        assertThat(sampler.maxAgentBuffered.get()).as("agent request buffer").isLessThanOrEqualTo(WINDOW);
        assertThat(sampler.maxAhead.get())
                .as("the app was held back by the reader the whole time, never far ahead of it")
                .isLessThan(64L * 1024 * 1024);
        await().atMost(Duration.ofSeconds(10)).until(() -> ingress.gauge("tunnel.ingress.buffered.bytes") == 0);
    }

    /**
     * Takes one chunk, then nothing until {@link #readAt}; from then on requests the next chunk only
     * when the bytes read so far are within the given rate.
     */
    private static final class SlowReader extends BaseSubscriber<ByteBuf> implements AutoCloseable {
        final AtomicLong received;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);
        final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        private volatile long rate;
        private volatile long readingSince;
        private volatile long bytesAtStart;

        SlowReader(AtomicLong received) {
            this.received = received;
        }

        void readAt(long bytesPerSecond) {
            bytesAtStart = received.get();
            readingSince = System.nanoTime();
            rate = bytesPerSecond;
            request(1);
        }

        @Override
        protected void hookOnSubscribe(Subscription s) {
            s.request(1);
        }

        @Override
        protected void hookOnNext(ByteBuf buf) {
            long total = received.addAndGet(buf.readableBytes());
            if (rate == 0) {
                return; // paused: readAt asks for the next chunk
            }
            long dueNanos = (total - bytesAtStart) * 1_000_000_000L / rate;
            long waitNanos = dueNanos - (System.nanoTime() - readingSince);
            if (waitNanos <= 0) {
                request(1);
            } else {
                timer.schedule(() -> request(1), waitNanos, TimeUnit.NANOSECONDS);
            }
        }

        @Override
        protected void hookOnError(Throwable t) {
            failure.set(t);
        }

        @Override
        protected void hookFinally(SignalType type) {
            done.countDown();
        }

        @Override
        public void close() {
            timer.shutdownNow();
            dispose();
        }
    }

    /** 2 GiB by default; {@code -De2e.bulk.mib=1024} on a slow machine. */
    private static final long LARGE_BYTES = Long.getLong("e2e.bulk.mib", 2048L) * 1024 * 1024;

    /** SHA-256 of the deterministic {@link Payloads} body of {@link #LARGE_BYTES}, computed once in the background. */
    private static final java.util.concurrent.CompletableFuture<String> LARGE_SHA256 =
            java.util.concurrent.CompletableFuture.supplyAsync(() -> Payloads.sha256(LARGE_BYTES, 0));

    /**
     * Samples every 20 ms, through the gauges both services expose: the ingress's buffered response
     * bytes, the agent's outbound frame queue and its buffered request bytes; and optionally how far
     * the app is ahead of the reader.
     */
    private static final class GaugeSampler implements AutoCloseable {
        final AtomicLong maxIngress = new AtomicLong();
        final AtomicLong maxAgentQueued = new AtomicLong();
        final AtomicLong maxAgentBuffered = new AtomicLong();
        final AtomicLong maxAhead = new AtomicLong();
        final AtomicLong samples = new AtomicLong();
        final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

        GaugeSampler() {
            this(() -> 0);
        }

        GaugeSampler(java.util.function.LongSupplier ahead) {
            timer.scheduleAtFixedRate(() -> {
                maxIngress.accumulateAndGet((long) ingress.gauge("tunnel.ingress.buffered.bytes"), Math::max);
                maxAgentQueued.accumulateAndGet((long) agent.gauge("tunnel.agent.outbound.queued.bytes"), Math::max);
                maxAgentBuffered.accumulateAndGet((long) agent.gauge("tunnel.agent.buffered.bytes"), Math::max);
                maxAhead.accumulateAndGet(ahead.getAsLong(), Math::max);
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
        System.out.printf("download of %d MiB: %d ms, max buffered ingress %d / agent outbound queue %d over %d samples%n",
                LARGE_BYTES >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                sampler.maxIngress.get(), sampler.maxAgentQueued.get(), sampler.samples.get());
        assertThat(digest.status()).isEqualTo(200);
        assertThat(digest.length()).isEqualTo(LARGE_BYTES);
        assertThat(digest.sha256()).isEqualTo(LARGE_SHA256.get(300, TimeUnit.SECONDS));
        assertThat(sampler.samples.get()).isGreaterThan(10);
        assertThat(sampler.maxIngress.get()).isLessThanOrEqualTo(WINDOW);
        assertThat(sampler.maxAgentQueued.get()).isLessThanOrEqualTo(AGENT_QUEUE_BOUND);
    }

    @Test
    void largeUploadKeepsItsChecksumAndBufferedBytesWithinTheWindow() throws Exception {
        long start = System.nanoTime();
        PublicClient.Reply reply;
        GaugeSampler sampler = new GaugeSampler();
        try (sampler) {
            reply = PublicClient.uploadForDigest(ingress, "bulk.example", LARGE_BYTES, Duration.ofSeconds(300));
        }
        System.out.printf("upload of %d MiB: %d ms, max buffered agent request bytes %d over %d samples%n",
                LARGE_BYTES >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                sampler.maxAgentBuffered.get(), sampler.samples.get());
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo(LARGE_BYTES + " " + LARGE_SHA256.get(300, TimeUnit.SECONDS));
        assertThat(sampler.samples.get()).isGreaterThan(10);
        assertThat(sampler.maxAgentBuffered.get()).isLessThanOrEqualTo(WINDOW);
    }
}
