package io.edgetunnel.agent.health;

import io.edgetunnel.agent.tunnel.TunnelClient;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Readiness contributor ({@code tunnels}): DOWN until at least one tunnel is registered with the
 * ingress, so an orchestrator does not count the agent as serving before it can.
 */
public final class TunnelReadinessIndicator implements HealthIndicator {

    private final TunnelClient client;

    public TunnelReadinessIndicator(TunnelClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    @Override
    public Health health() {
        int connected = client.connectedTunnels();
        Health.Builder builder = connected > 0 ? Health.up() : Health.down();
        return builder.withDetail("connected", connected)
                .withDetail("activeStreams", client.activeStreams())
                // which ingress replica each tunnel reached: tunnels sharing one are not spread yet
                .withDetail("replicas", client.tunnelReplicas())
                .build();
    }
}
