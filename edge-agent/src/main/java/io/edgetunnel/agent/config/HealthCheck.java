package io.edgetunnel.agent.config;

import java.time.Duration;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Active HTTP health check of one route's local app ({@code agent.routes[i].health-check.*}). Off
 * while {@code path} is empty, the default: such a route is always in rotation. A check passes on a
 * 2xx or 3xx status within {@code timeout}; anything else (another status, refused connection,
 * timeout) fails it.
 *
 * @param path request path (and optional query) of the check, resolved against the route's {@code
 *     local-url} like a forwarded request target; empty turns the check off
 * @param interval time between the starts of two checks
 * @param timeout time for a check to get a response status, connecting included
 * @param failureThreshold consecutive failed checks that take a healthy route out of rotation
 * @param successThreshold consecutive passed checks that put an unhealthy route back (a route that
 *     has not been checked yet needs only one)
 */
public record HealthCheck(
        @DefaultValue("") String path,
        @DefaultValue("5s") Duration interval,
        @DefaultValue("2s") Duration timeout,
        @DefaultValue("3") int failureThreshold,
        @DefaultValue("2") int successThreshold) {

    /** No health check: the route is always healthy. */
    public static final HealthCheck NONE = new HealthCheck("", null, null, 3, 2);

    public HealthCheck {
        path = path == null ? "" : path.trim();
        if (!path.isEmpty() && !path.startsWith("/")) {
            throw new IllegalArgumentException("health-check.path: " + path + " (expected: empty or starting with /)");
        }
        interval = interval == null ? Duration.ofSeconds(5) : interval;
        timeout = timeout == null ? Duration.ofSeconds(2) : timeout;
        if (interval.isZero() || interval.isNegative()) {
            throw new IllegalArgumentException("health-check.interval: " + interval + " (expected: > 0)");
        }
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("health-check.timeout: " + timeout + " (expected: > 0)");
        }
        if (failureThreshold < 1) {
            throw new IllegalArgumentException(
                    "health-check.failure-threshold: " + failureThreshold + " (expected: >= 1)");
        }
        if (successThreshold < 1) {
            throw new IllegalArgumentException(
                    "health-check.success-threshold: " + successThreshold + " (expected: >= 1)");
        }
    }

    public boolean enabled() {
        return !path.isEmpty();
    }
}
