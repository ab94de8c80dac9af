package io.edgetunnel.agent.proxy;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Time since a body byte last moved either way. One timer per exchange, re-armed for the remaining
 * time when it fires early, instead of a reschedule per chunk.
 */
final class IdleWatch {
    private final Duration timeout;
    private volatile long lastActivityNanos = System.nanoTime();

    IdleWatch(Duration timeout) {
        this.timeout = timeout;
    }

    Duration timeout() {
        return timeout;
    }

    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    /** Errors with {@code failure} once armed and idle for the timeout; never completes otherwise. */
    Mono<Void> expiry(Scheduler timer, BooleanSupplier armed, Supplier<Throwable> failure) {
        return after(timer, timeout, armed, failure);
    }

    private Mono<Void> after(Scheduler timer, Duration delay, BooleanSupplier armed, Supplier<Throwable> failure) {
        return Mono.delay(delay, timer).then(Mono.defer(() -> {
            long idleNanos = System.nanoTime() - lastActivityNanos;
            if (!armed.getAsBoolean()) {
                return after(timer, timeout, armed, failure);
            }
            if (idleNanos >= timeout.toNanos()) {
                return Mono.error(failure.get());
            }
            return after(timer, timeout.minusNanos(idleNanos), armed, failure);
        }));
    }
}
