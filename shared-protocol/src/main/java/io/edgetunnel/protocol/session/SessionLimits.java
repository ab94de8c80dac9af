package io.edgetunnel.protocol.session;

import java.time.Duration;
import java.util.Objects;

/**
 * The safety limits of one connection, set by each side's configuration.
 *
 * @param missedHeartbeats heartbeat intervals of silence after which the peer is declared dead
 *     (close 4002)
 * @param maxQueuedBytes outbound bytes queued before the peer is cut as a slow consumer (close 4011);
 *     above a quarter of it, streams stop sending until the queue drained
 * @param closeBackstop how long after a close the connection is dropped should the flush or the close
 *     handshake never finish
 */
public record SessionLimits(int missedHeartbeats, long maxQueuedBytes, Duration closeBackstop) {

    public SessionLimits {
        Objects.requireNonNull(closeBackstop, "closeBackstop");
        if (missedHeartbeats < 1) {
            throw new IllegalArgumentException("missedHeartbeats: " + missedHeartbeats + " (expected: >= 1)");
        }
        if (maxQueuedBytes <= 0) {
            throw new IllegalArgumentException("maxQueuedBytes: " + maxQueuedBytes + " (expected: > 0)");
        }
        if (closeBackstop.isNegative()) {
            throw new IllegalArgumentException("closeBackstop: " + closeBackstop + " (expected: >= 0)");
        }
    }
}
