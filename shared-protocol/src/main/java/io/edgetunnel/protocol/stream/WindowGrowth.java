package io.edgetunnel.protocol.stream;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How far a receiver lets its streams' windows grow beyond the initial window (spec section 8.1),
 * shared by every stream of one tunnel, and the tunnel's round-trip time the growth rule needs. A
 * single bulk stream is limited to one window per round trip: 256 KiB over a 50 ms path is 5 MB/s.
 * Growing the window of a stream whose window, not its consumer, is the limit lifts that, and the
 * tunnel-wide budget keeps what all streams together may hold bounded: per tunnel at most the
 * initial windows plus this budget.
 */
public final class WindowGrowth {

    /** No growth: every stream keeps the initial window. */
    public static final WindowGrowth NONE = new WindowGrowth(0, 0);

    private final int maxStreamWindow;
    private final long budgetBytes;
    private final AtomicLong available;
    /** Least round-trip time measured on the tunnel, 0 until measured. */
    private volatile long rttNanos;

    /**
     * @param maxStreamWindow the largest window one stream grows to (at most the initial window: no growth)
     * @param budgetBytes the growth all streams of the tunnel may hold at once, in bytes
     */
    public WindowGrowth(int maxStreamWindow, long budgetBytes) {
        if (maxStreamWindow < 0 || budgetBytes < 0) {
            throw new IllegalArgumentException(
                    "maxStreamWindow " + maxStreamWindow + ", budgetBytes " + budgetBytes + " (expected: >= 0)");
        }
        this.maxStreamWindow = maxStreamWindow;
        this.budgetBytes = budgetBytes;
        this.available = new AtomicLong(budgetBytes);
    }

    public int maxStreamWindow() {
        return maxStreamWindow;
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    /** Bytes of growth currently held by the tunnel's streams. */
    public long inUse() {
        return budgetBytes - available.get();
    }

    /**
     * A round-trip sample (a PING's PONG). The minimum is kept: a PONG that waited in a queue behind
     * this tunnel's own data measures that queue, and growing windows against it would fill the
     * queue further.
     */
    public void roundTrip(long nanos) {
        if (nanos <= 0) {
            return;
        }
        long current = rttNanos;
        if (current == 0 || nanos < current) {
            rttNanos = nanos;
        }
    }

    /** The tunnel's least measured round-trip time in nanoseconds, or 0 before the first measurement. */
    public long rttNanos() {
        return rttNanos;
    }

    /** Takes up to {@code wanted} bytes of the budget; returns what was taken (possibly 0). */
    int reserve(int wanted) {
        if (wanted <= 0) {
            return 0;
        }
        while (true) {
            long left = available.get();
            int taken = (int) Math.min(left, wanted);
            if (taken <= 0) {
                return 0;
            }
            if (available.compareAndSet(left, left - taken)) {
                return taken;
            }
        }
    }

    /** Gives back growth a finished stream held. */
    void release(int bytes) {
        if (bytes > 0) {
            available.addAndGet(bytes);
        }
    }
}
