package io.edgetunnel.ingress.support;

import io.edgetunnel.testsupport.NoLeaks;
import io.edgetunnel.testsupport.LeakRecorder;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The test harness itself: a leaked buffer is caught, and BlockHound is watching the event loops. */
class NoLeaksTests {

    @Test
    void leakedBufferIsReported() {
        LeakRecorder.install();
        leak();
        try {
            assertThatThrownBy(NoLeaks::assertNoLeaks).hasMessageContaining("LEAK");
        } finally {
            LeakRecorder.clear();
        }
        NoLeaks.assertNoLeaks();
    }

    private static void leak() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(128);
        buf.writeInt(1);
        // dropped without release
    }

    @Test
    void blockingOnANonBlockingThreadFails() {
        Mono<Void> blocking = Mono.fromRunnable(() -> {
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                })
                .subscribeOn(Schedulers.parallel())
                .then();

        assertThatThrownBy(() -> blocking.block(Duration.ofSeconds(5)))
                .hasMessageContaining("Blocking call");
        assertThat(LeakRecorder.isInstalled()).isTrue();
    }
}
