package io.edgetunnel.ingress.tunnel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts tunnel connections that have not authenticated yet, per source and in total, so that
 * strangers holding connections open (each costs buffers, a hello timer, maybe a verification)
 * cannot exhaust the ingress. A slot is taken before the WebSocket handshake and given back when
 * the connection authenticates or ends, whichever comes first.
 */
final class PreAuthSlots {

    /** Why no slot was given. */
    enum Refusal {
        TOTAL,
        SOURCE
    }

    /** One connection's place; {@link #release()} is idempotent. */
    final class Slot {
        private final String source;
        private final AtomicBoolean released = new AtomicBoolean();

        private Slot(String source) {
            this.source = source;
        }

        void release() {
            if (released.compareAndSet(false, true)) {
                total.decrementAndGet();
                perSource.compute(source, (key, count) -> count == null || count <= 1 ? null : count - 1);
            }
        }
    }

    /** A slot, or why there is none. */
    record Admission(Slot slot, Refusal refusal) {}

    private final int maxTotal;
    private final int maxPerSource;
    private final AtomicInteger total = new AtomicInteger();
    private final Map<String, Integer> perSource = new ConcurrentHashMap<>();

    PreAuthSlots(int maxTotal, int maxPerSource) {
        this.maxTotal = maxTotal;
        this.maxPerSource = maxPerSource;
    }

    /** @param source the client address, or null when unknown (all unknown sources share one count) */
    Admission tryAcquire(String source) {
        String key = source == null ? "unknown" : source;
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return new Admission(null, Refusal.TOTAL);
        }
        AtomicBoolean admitted = new AtomicBoolean();
        perSource.compute(key, (k, count) -> {
            int now = count == null ? 0 : count;
            if (now >= maxPerSource) {
                return count;
            }
            admitted.set(true);
            return now + 1;
        });
        if (!admitted.get()) {
            total.decrementAndGet();
            return new Admission(null, Refusal.SOURCE);
        }
        return new Admission(new Slot(key), null);
    }

    int unauthenticated() {
        return total.get();
    }
}
