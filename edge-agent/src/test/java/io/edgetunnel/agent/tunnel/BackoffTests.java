package io.edgetunnel.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTests {

    private final Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));

    @Test
    void growsExponentiallyWithinBounds() {
        for (int attempt = 0; attempt < 40; attempt++) {
            long ceiling = Math.min(30_000, 500L << Math.min(attempt + 1, 30));
            for (int i = 0; i < 200; i++) {
                long millis = backoff.delay(attempt).toMillis();
                assertThat(millis).as("attempt " + attempt).isBetween(500L, ceiling);
            }
        }
        assertThat(backoff.delay(Integer.MAX_VALUE).toMillis()).isBetween(500L, 30_000L);
    }

    @Test
    void spreadsAgentsThatFailedTogether() {
        // a thousand agents losing the ingress at once must not come back in one burst
        Set<Long> secondBuckets = new HashSet<>();
        int inFirstHundredMillis = 0;
        for (int agent = 0; agent < 1000; agent++) {
            long millis = backoff.delay(5).toMillis();
            secondBuckets.add(millis / 1000);
            if (millis < 600) {
                inFirstHundredMillis++;
            }
        }
        assertThat(secondBuckets).hasSizeGreaterThan(10);
        assertThat(inFirstHundredMillis).isLessThan(50);
    }
}
