package io.edgetunnel.agent.startup;

import java.time.Duration;
import java.util.Objects;

/**
 * What the {@link ClassPreloader} has done so far.
 *
 * @param outcome where it stands
 * @param loaded classes loaded (or already loaded) from the list
 * @param skipped names on the list that this JVM and class path do not have
 * @param nanos how long the run took
 * @param error why it failed, or null
 */
public record PreloadResult(Outcome outcome, int loaded, int skipped, long nanos, String error) {

    /** Where a preload stands. */
    public enum Outcome {
        /** started, not finished */
        RUNNING,
        /** the list was read to its end */
        DONE,
        /** the jar carries no list */
        NO_LIST,
        /** the list could not be read, or the thread failed */
        FAILED
    }

    public PreloadResult {
        Objects.requireNonNull(outcome, "outcome");
        if (loaded < 0 || skipped < 0 || nanos < 0) {
            throw new IllegalArgumentException("loaded, skipped, nanos: " + loaded + ", " + skipped + ", " + nanos
                    + " (expected: >= 0)");
        }
    }

    static PreloadResult running() {
        return new PreloadResult(Outcome.RUNNING, 0, 0, 0, null);
    }

    static PreloadResult noList() {
        return new PreloadResult(Outcome.NO_LIST, 0, 0, 0, null);
    }

    static PreloadResult failed(Throwable cause, long nanos) {
        return new PreloadResult(Outcome.FAILED, 0, 0, nanos, cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }

    public Duration duration() {
        return Duration.ofNanos(nanos);
    }
}
