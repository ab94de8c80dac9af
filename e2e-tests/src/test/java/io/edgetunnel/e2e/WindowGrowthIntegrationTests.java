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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tunnel over a wide-area round trip (a {@link LatencyRelay} with 20 ms each way between agent
 * and ingress). With a fixed 256 KiB window a stream moves at most one window per round trip, so
 * 16 MiB cannot take less than 63 round trips, about 2.5 s: a transfer that is clearly faster
 * proves the receiver grew the window (protocol section 8.1); the same download with growth turned
 * off shows the relay really imposes that round trip.
 */
@Tag("bulk")
@ExtendWith(NoLeaks.class)
class WindowGrowthIntegrationTests {

    private static final Duration ONE_WAY = Duration.ofMillis(20);
    private static final int WINDOW = 256 * 1024;
    private static final long BYTES = 16L * 1024 * 1024;
    /** The least time a fixed window allows: (bytes - one window) / (window per round trip). */
    private static final long FIXED_WINDOW_FLOOR_MS = (BYTES - WINDOW) / WINDOW * ONE_WAY.toMillis() * 2;

    private static UpstreamApp upstream;

    @BeforeAll
    static void start() {
        upstream = new UpstreamApp("wan");
    }

    @AfterAll
    static void stop() {
        upstream.close();
    }

    /** An ingress, a latency relay in front of its tunnel port, and an agent dialling through it. */
    private record Path(IngressNode ingress, LatencyRelay relay, AgentNode agent) implements AutoCloseable {

        static Path start(String host, boolean growth) throws Exception {
            String window = growth ? "4194304" : String.valueOf(WINDOW);
            // a short heartbeat: its first PING/PONG gives both ends the round trip
            IngressNode ingress = IngressNode.start("ingress.tunnel.initial-stream-window=" + WINDOW,
                    "ingress.tunnel.max-stream-window=" + window, "ingress.tunnel.heartbeat-interval=500ms");
            LatencyRelay relay = new LatencyRelay(ingress.tunnelPort(), ONE_WAY);
            AgentNode agent = AgentNode.startAt("ws://127.0.0.1:" + relay.port() + "/tunnel", "agent-" + host,
                    AgentNode.route(host, upstream.url()), "agent.max-stream-window=" + window);
            await().atMost(Duration.ofSeconds(60)).until(() -> ingress.registry().tunnelCount(host) == 1);
            // two heartbeats: both ends have measured the round trip
            Thread.sleep(1200);
            return new Path(ingress, relay, agent);
        }

        long downloadMillis(String host) {
            long start = System.nanoTime();
            PublicClient.Digest digest = PublicClient.to(ingress, host)
                    .responseTimeout(Duration.ofSeconds(60))
                    .get()
                    .uri("/bytes?size=" + BYTES)
                    .response(PublicClient::digest)
                    .single()
                    .block(Duration.ofSeconds(60));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(digest.status()).isEqualTo(200);
            assertThat(digest.length()).isEqualTo(BYTES);
            assertThat(digest.sha256()).isEqualTo(Payloads.sha256(BYTES, 0));
            return millis;
        }

        @Override
        public void close() throws Exception {
            agent.close();
            relay.close();
            ingress.close();
        }
    }

    /** Well under the floor: no fixed 256 KiB window gets 16 MiB across in that time. */
    private static void assertBeatsTheFixedWindow(String what, long millis) {
        System.out.printf("16 MiB %s over a %d ms round trip, window growth on: %d ms (fixed-window floor %d ms)%n",
                what, ONE_WAY.toMillis() * 2, millis, FIXED_WINDOW_FLOOR_MS);
        assertThat(millis).as("faster than a fixed 256 KiB window allows").isLessThan(FIXED_WINDOW_FLOOR_MS * 2 / 3);
    }

    @Test
    void aDownloadOverALongRoundTripGrowsPastOneWindowPerRoundTrip() throws Exception {
        try (Path path = Path.start("down.wan.example", true)) {
            assertBeatsTheFixedWindow("download", path.downloadMillis("down.wan.example"));
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(path.ingress().gauge("tunnel.ingress.buffered.bytes")).isZero());
        }
    }

    @Test
    void anUploadOverALongRoundTripGrowsTheAgentsWindow() throws Exception {
        try (Path path = Path.start("up.wan.example", true)) {
            long start = System.nanoTime();
            PublicClient.Reply reply =
                    PublicClient.uploadForDigest(path.ingress(), "up.wan.example", BYTES, Duration.ofSeconds(60));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body()).isEqualTo(BYTES + " " + Payloads.sha256(BYTES, 0));
            assertBeatsTheFixedWindow("upload", millis);
        }
    }

    @Test
    void withGrowthOffTheRelayHoldsADownloadToOneWindowPerRoundTrip() throws Exception {
        try (Path path = Path.start("fixed.wan.example", false)) {
            long millis = path.downloadMillis("fixed.wan.example");
            System.out.printf("16 MiB download over a %d ms round trip, fixed window: %d ms (floor %d ms)%n",
                    ONE_WAY.toMillis() * 2, millis, FIXED_WINDOW_FLOOR_MS);
            assertThat(millis).as("the relay's round trip bounds a fixed window").isGreaterThanOrEqualTo(FIXED_WINDOW_FLOOR_MS);
        }
    }
}
