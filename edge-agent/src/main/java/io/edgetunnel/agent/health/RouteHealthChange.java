package io.edgetunnel.agent.health;

import io.edgetunnel.agent.config.Route;
import java.util.Objects;

/**
 * A route's local app became healthy or unhealthy.
 *
 * @param reason what the deciding check saw ({@code status 503}, {@code timeout after 2s}, ...)
 */
public record RouteHealthChange(Route route, boolean healthy, String reason) {
    public RouteHealthChange {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(reason, "reason");
    }
}
