package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.stream.WindowGrowth;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every stream of an open connection shares: the initial window of both directions, the
 * largest DATA payload to send, how far receiving windows may grow, and the counter of bytes the
 * streams buffer (for the gauge).
 */
public record StreamSettings(int window, int maxChunk, WindowGrowth growth, LongAdder bufferedBytes) {

    public StreamSettings {
        Objects.requireNonNull(growth, "growth");
        Objects.requireNonNull(bufferedBytes, "bufferedBytes");
        if (window <= 0) {
            throw new IllegalArgumentException("window: " + window + " (expected: > 0)");
        }
        if (maxChunk <= 0) {
            throw new IllegalArgumentException("maxChunk: " + maxChunk + " (expected: > 0)");
        }
    }
}
