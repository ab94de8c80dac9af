package io.edgetunnel.agent.startup;

import java.time.Duration;

/**
 * What one run of the {@link ClassPreloader} did.
 *
 * @param listFound whether the jar carried the class list
 * @param loaded classes loaded (or already loaded) from the list
 * @param skipped names on the list that this JVM and class path do not have
 * @param nanos how long the run took
 * @param error why the list could not be read, or null
 */
public record PreloadResult(boolean listFound, int loaded, int skipped, long nanos, String error) {

    public PreloadResult {
        if (loaded < 0 || skipped < 0 || nanos < 0) {
            throw new IllegalArgumentException("loaded, skipped, nanos: " + loaded + ", " + skipped + ", " + nanos
                    + " (expected: >= 0)");
        }
    }

    static PreloadResult noList() {
        return new PreloadResult(false, 0, 0, 0, null);
    }

    static PreloadResult unreadable(String error, long nanos) {
        return new PreloadResult(true, 0, 0, nanos, error);
    }

    public Duration duration() {
        return Duration.ofNanos(nanos);
    }
}
