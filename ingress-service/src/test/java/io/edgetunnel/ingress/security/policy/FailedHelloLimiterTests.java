package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class FailedHelloLimiterTests {

    private final MutableClock clock = new MutableClock();
    private final FailedHelloLimiter limiter = new FailedHelloLimiter(
            new HostPolicyProperties.FailedHellos(2, Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofMinutes(10), 3),
            clock);

    @Test
    void delayGrowsWithEachFailureUpToTheCap() {
        assertThat(limiter.failed("10.0.0.1")).isZero();
        assertThat(limiter.failed("10.0.0.1")).isZero();
        assertThat(limiter.blocked("10.0.0.1")).isEmpty();
        assertThat(limiter.failed("10.0.0.1")).isEqualTo(Duration.ofSeconds(1));
        assertThat(limiter.failed("10.0.0.1")).isEqualTo(Duration.ofSeconds(2));
        assertThat(limiter.failed("10.0.0.1")).isEqualTo(Duration.ofSeconds(4));
        assertThat(limiter.failed("10.0.0.1")).isEqualTo(Duration.ofSeconds(8));
        assertThat(limiter.failed("10.0.0.1")).isEqualTo(Duration.ofSeconds(8));
        assertThat(limiter.blocked("10.0.0.1")).contains(Duration.ofSeconds(8));
        clock.advance(Duration.ofSeconds(9));
        assertThat(limiter.blocked("10.0.0.1")).isEmpty();
    }

    @Test
    void successAndQuietTimeClearASource() {
        for (int i = 0; i < 4; i++) {
            limiter.failed("10.0.0.2");
        }
        limiter.succeeded("10.0.0.2");
        assertThat(limiter.blocked("10.0.0.2")).isEmpty();
        for (int i = 0; i < 3; i++) {
            limiter.failed("10.0.0.3");
        }
        clock.advance(Duration.ofMinutes(11));
        assertThat(limiter.failed("10.0.0.3")).isZero();
    }

    @Test
    void otherSourcesAreUnaffectedAndTrackingIsBounded() {
        for (int i = 0; i < 5; i++) {
            limiter.failed("10.0.0.4");
        }
        assertThat(limiter.blocked("10.0.0.5")).isEmpty();
        for (int i = 0; i < 100; i++) {
            clock.advance(Duration.ofMillis(1));
            limiter.failed("192.0.2." + i);
        }
        assertThat(limiter.tracked()).isLessThanOrEqualTo(3);
    }

    static final class MutableClock extends Clock {
        private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-21T10:00:00Z"));

        void advance(Duration d) {
            now.updateAndGet(i -> i.plus(d));
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
