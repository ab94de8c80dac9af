package io.edgetunnel.protocol.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

class HeartbeatTests {

    @Test
    void aSendThatThrowsDoesNotStopTheHeartbeatSoASilentPeerIsStillDeclaredDead() {
        AtomicInteger sends = new AtomicInteger();
        AtomicInteger dead = new AtomicInteger();
        Heartbeat heartbeat = new Heartbeat(
                Duration.ofMillis(20),
                3,
                frame -> {
                    if (sends.incrementAndGet() == 1) {
                        throw new IllegalStateException("queue refused the ping");
                    }
                },
                dead::incrementAndGet,
                Schedulers.parallel());
        heartbeat.start();

        await().atMost(Duration.ofSeconds(5)).until(() -> dead.get() == 1);
        assertThat(sends.get()).as("pings went on after the failed one").isGreaterThan(1);
        heartbeat.stop();
    }

    @Test
    void framesFromThePeerKeepItAlive() {
        AtomicInteger dead = new AtomicInteger();
        // 600 ms of silence kills it; frames arrive for 2 s, so a heartbeat that ignored them would die
        // at least twice over, while a loaded machine pausing this thread for a few ticks does not matter
        Heartbeat heartbeat = new Heartbeat(Duration.ofMillis(200), 3, frame -> {}, dead::incrementAndGet,
                Schedulers.parallel());
        heartbeat.start();
        long until = System.nanoTime() + Duration.ofMillis(2000).toNanos();
        while (System.nanoTime() < until) {
            heartbeat.onFrameReceived();
            Thread.onSpinWait();
        }
        assertThat(dead.get()).isZero();
        heartbeat.stop();
    }

    @Test
    void thePongToOurLastPingGivesTheRoundTrip() throws InterruptedException {
        java.util.List<io.edgetunnel.protocol.Frame> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<Long> roundTrips = new java.util.concurrent.CopyOnWriteArrayList<>();
        Heartbeat heartbeat = new Heartbeat(Duration.ofMillis(50), 1000, sent::add, () -> {}, Schedulers.parallel(),
                roundTrips::add);
        heartbeat.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> !sent.isEmpty());
        heartbeat.stop();
        Thread.sleep(200); // a tick that was already running when stopped has sent its PING by now
        long payload = ((io.edgetunnel.protocol.Frame.Ping) sent.get(sent.size() - 1)).payload();

        heartbeat.onPong(payload + 1);
        assertThat(roundTrips).as("a PONG to a PING we did not send").isEmpty();
        heartbeat.onPong(payload);
        heartbeat.onPong(payload);

        assertThat(roundTrips).as("one sample per PING").hasSize(1);
        assertThat(roundTrips.get(0)).isPositive().isLessThan(Duration.ofSeconds(10).toNanos());
    }
}
