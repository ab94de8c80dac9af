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
}
