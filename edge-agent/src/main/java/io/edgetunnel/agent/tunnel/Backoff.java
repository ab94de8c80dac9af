package io.edgetunnel.agent.tunnel;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: attempt {@code n} waits a uniformly random time between
 * {@code min} and {@code min(max, min * 2^(n+1))}, so agents that lost the same ingress at the same
 * moment spread their reconnects instead of arriving in one burst.
 */
final class Backoff {

    private final long minMillis;
    private final long maxMillis;

    Backoff(Duration min, Duration max) {
        this.minMillis = Math.max(1, min.toMillis());
        this.maxMillis = Math.max(minMillis, max.toMillis());
    }

    Duration delay(int attempt) {
        int shift = Math.min(Math.max(attempt, 0), 29) + 1;
        long ceiling = minMillis << shift;
        if (ceiling <= 0 || ceiling > maxMillis) {
            ceiling = maxMillis;
        }
        long millis = ceiling <= minMillis
                ? minMillis
                : ThreadLocalRandom.current().nextLong(minMillis, ceiling + 1);
        return Duration.ofMillis(millis);
    }
}
