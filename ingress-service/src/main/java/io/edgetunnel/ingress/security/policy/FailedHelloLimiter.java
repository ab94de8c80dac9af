package io.edgetunnel.ingress.security.policy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down guessing: after {@code freeFailures} failed hellos from one source, that source is
 * refused ({@code RATE_LIMITED}, without its credentials being looked at) for a delay that doubles
 * with every further failure, up to {@code maxDelay}. A success or {@code forgetAfter} without
 * failures clears it. At most {@code maxSources} sources are tracked, so a flood of addresses cannot
 * grow memory: when full, entries past {@code forgetAfter} go first, then the stalest.
 */
public final class FailedHelloLimiter {

    private record Entry(int failures, Instant lastFailure, Instant blockedUntil) {}

    private final HostPolicyProperties.FailedHellos settings;
    private final Clock clock;
    private final Map<String, Entry> sources = new ConcurrentHashMap<>();

    public FailedHelloLimiter(HostPolicyProperties.FailedHellos settings, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** How long the source must still wait, if it is blocked now. */
    public Optional<Duration> blocked(String source) {
        if (source == null) {
            return Optional.empty();
        }
        Entry entry = sources.get(source);
        Instant now = clock.instant();
        if (entry == null || !entry.blockedUntil().isAfter(now)) {
            return Optional.empty();
        }
        return Optional.of(Duration.between(now, entry.blockedUntil()));
    }

    /** Records a failed hello; returns the block it now carries (zero while failures are free). */
    public Duration failed(String source) {
        if (source == null) {
            return Duration.ZERO;
        }
        Instant now = clock.instant();
        if (sources.size() >= settings.maxSources() && !sources.containsKey(source)) {
            evict(now);
        }
        Entry entry = sources.compute(source, (key, old) -> {
            int failures = old == null || old.lastFailure().plus(settings.forgetAfter()).isBefore(now)
                    ? 1 : old.failures() + 1;
            return new Entry(failures, now, now.plus(delay(failures)));
        });
        return Duration.between(now, entry.blockedUntil());
    }

    public void succeeded(String source) {
        if (source != null) {
            sources.remove(source);
        }
    }

    int tracked() {
        return sources.size();
    }

    Duration delay(int failures) {
        int over = failures - settings.freeFailures();
        if (over <= 0) {
            return Duration.ZERO;
        }
        Duration delay = settings.initialDelay();
        for (int i = 1; i < over && delay.compareTo(settings.maxDelay()) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(settings.maxDelay()) > 0 ? settings.maxDelay() : delay;
    }

    private void evict(Instant now) {
        sources.entrySet().removeIf(e -> e.getValue().lastFailure().plus(settings.forgetAfter()).isBefore(now)
                && !e.getValue().blockedUntil().isAfter(now));
        if (sources.size() < settings.maxSources()) {
            return;
        }
        String stalest = null;
        Instant oldest = Instant.MAX;
        for (Iterator<Map.Entry<String, Entry>> it = sources.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry> e = it.next();
            if (e.getValue().lastFailure().isBefore(oldest)) {
                oldest = e.getValue().lastFailure();
                stalest = e.getKey();
            }
        }
        if (stalest != null) {
            sources.remove(stalest);
        }
    }
}
