package io.edgetunnel.ingress.cluster;

/**
 * This ingress replica as agents are told about it in the Accept: which replica they reached and how
 * many the cluster has, so that an agent whose tunnels all landed on one replica can re-dial.
 */
public interface ReplicaInfo {

    /** Stable for the life of this process. */
    String replicaId();

    /** Live replicas in this replica's view of the cluster, itself included; 1 when clustering is off. */
    int replicaCount();

    /**
     * Whether this replica knows the cluster well enough to take traffic: its first directory read is
     * done, or the directory did not answer within a few heartbeats (then it serves its own agents).
     */
    default boolean ready() {
        return true;
    }

    /** Whether the cluster directory (Redis) does not answer this replica; never for a single ingress. */
    default boolean degraded() {
        return false;
    }
}
