package io.edgetunnel.ingress.security;

import java.util.concurrent.Semaphore;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Where hello verifications run (the blocking STS, ECS and Secrets Manager calls): a pool of their
 * own, so a flood of hellos cannot take the shared {@code boundedElastic} threads that everything
 * else relies on, with a cap on verifications in flight so that hellos beyond it are refused at once
 * rather than queued without bound.
 */
public final class VerificationPool implements AutoCloseable {

    private final Scheduler scheduler;
    private final Semaphore inFlight;
    private final int maxInFlight;

    public VerificationPool(int threads, int maxInFlight) {
        if (threads < 1 || maxInFlight < 1) {
            throw new IllegalArgumentException("threads: " + threads + ", maxInFlight: " + maxInFlight
                    + " (expected: >= 1 each)");
        }
        // queue room for every verification allowed in flight: the cap is the semaphore, not a rejection
        this.scheduler = Schedulers.newBoundedElastic(threads, maxInFlight, "hello-verify", 60, true);
        this.inFlight = new Semaphore(maxInFlight);
        this.maxInFlight = maxInFlight;
    }

    /** Runs the blocking parts of a verification. */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** Takes a place for one verification; false when {@link #maxInFlight()} are running. */
    public boolean tryAcquire() {
        return inFlight.tryAcquire();
    }

    public void release() {
        inFlight.release();
    }

    public int maxInFlight() {
        return maxInFlight;
    }

    public int inFlight() {
        return maxInFlight - inFlight.availablePermits();
    }

    @Override
    public void close() {
        scheduler.dispose();
    }
}
