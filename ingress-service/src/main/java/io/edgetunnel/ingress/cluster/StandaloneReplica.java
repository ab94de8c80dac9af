package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.tunnel.Ids;

/** A single ingress without a cluster directory: always the only replica. */
record StandaloneReplica(String replicaId) implements ReplicaInfo {

    static StandaloneReplica of(ClusterProperties properties) {
        return new StandaloneReplica(properties.replicaId().isBlank() ? Ids.random() : properties.replicaId());
    }

    @Override
    public int replicaCount() {
        return 1;
    }
}
