package io.edgetunnel.ingress.cluster;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Part of readiness: a new replica is not ready until it has read the cluster directory once, so the
 * load balancer does not send it requests for hosts it does not know yet are held elsewhere (they
 * would get 404). Redis that does not answer holds readiness back only for a few heartbeats; then the
 * replica serves its own agents, degraded. Always UP for a single ingress.
 */
@Component("clusterDirectory")
final class ClusterDirectoryHealth implements HealthIndicator {

    private final ReplicaInfo replica;

    ClusterDirectoryHealth(ReplicaInfo replica) {
        this.replica = replica;
    }

    @Override
    public Health health() {
        if (replica.ready()) {
            return Health.up().withDetail("degraded", replica.degraded()).build();
        }
        return Health.outOfService().withDetail("reason", "reading the cluster directory").build();
    }
}
