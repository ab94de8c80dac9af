package io.edgetunnel.agent.health;

import io.edgetunnel.agent.config.HealthCheck;
import java.util.Objects;

/**
 * The health state machine of one checked route. It starts {@link Status#UNCHECKED} (out of
 * rotation): the first result decides at once, as Envoy does for new hosts, so a starting agent
 * serves as soon as its app answers. From then on it takes {@code failureThreshold} consecutive
 * failures to become unhealthy and {@code successThreshold} consecutive passes to recover.
 *
 * <p>Results arrive one at a time (checks of a route never overlap); the status is read from any
 * thread.
 */
final class RouteHealth {

    enum Status {
        UNCHECKED,
        HEALTHY,
        UNHEALTHY
    }

    private final HealthCheck check;
    private volatile Status status = Status.UNCHECKED;
    private int consecutivePasses;
    private int consecutiveFailures;

    RouteHealth(HealthCheck check) {
        this.check = Objects.requireNonNull(check, "check");
    }

    Status status() {
        return status;
    }

    boolean isHealthy() {
        return status == Status.HEALTHY;
    }

    /** Applies one check result; returns the new status when it changed, else null. */
    Status onResult(boolean passed) {
        Status before = status;
        Status after = before;
        if (passed) {
            consecutiveFailures = 0;
            consecutivePasses++;
            if (before == Status.UNCHECKED
                    || (before == Status.UNHEALTHY && consecutivePasses >= check.successThreshold())) {
                after = Status.HEALTHY;
            }
        } else {
            consecutivePasses = 0;
            consecutiveFailures++;
            if (before == Status.UNCHECKED
                    || (before == Status.HEALTHY && consecutiveFailures >= check.failureThreshold())) {
                after = Status.UNHEALTHY;
            }
        }
        if (after == before) {
            return null;
        }
        status = after;
        return after;
    }

    /** Consecutive results of the latest kind (passes when the last check passed, else failures). */
    int streak() {
        return Math.max(consecutivePasses, consecutiveFailures);
    }
}
