package io.edgetunnel.ingress.cluster;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Clustering is off unless {@code ingress.cluster.redis-url} is set; this replica's identity either way. */
@Configuration(proxyBeanMethods = false)
class ClusterConfiguration {

    @Bean
    ReplicaInfo replicaInfo(ClusterProperties properties) {
        return StandaloneReplica.of(properties);
    }
}
