package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.deploy.TaskMetadata;
import io.edgetunnel.ingress.deploy.TaskMetadataReader;
import io.edgetunnel.ingress.tunnel.Ids;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Who this replica is in the directory and where the others reach it: the configured address, else
 * the task's private IPv4 from the ECS task metadata endpoint v4 (awsvpc networking, as on Fargate),
 * else this host's address.
 */
record ClusterIdentity(String replicaId, String address) {

    static ClusterIdentity resolve(ClusterProperties properties) {
        String id = properties.replicaId().isBlank() ? Ids.random() : properties.replicaId();
        String address = properties.advertiseAddress().isBlank() ? discoveredAddress() : properties.advertiseAddress();
        return new ClusterIdentity(id, address);
    }

    private static String discoveredAddress() {
        TaskMetadata task = TaskMetadataReader.fromEnvironment().read();
        if (task != null && task.privateIpv4() != null && !task.privateIpv4().isBlank()) {
            return task.privateIpv4();
        }
        return localAddress();
    }

    private static String localAddress() {
        try {
            InetAddress local = InetAddress.getLocalHost();
            if (local.isLoopbackAddress()) {
                org.slf4j.LoggerFactory.getLogger(ClusterIdentity.class).warn(
                        "Cluster: this host's address is {} (loopback): other replicas cannot reach it there;"
                                + " set ingress.cluster.advertise-address", local.getHostAddress());
            }
            return local.getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException("ingress.cluster.advertise-address: not set and this host's address is unknown ("
                    + e.getMessage() + "); set it to the address other replicas reach this one at", e);
        }
    }
}
