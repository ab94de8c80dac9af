package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.config.ProxyProperties;
import io.edgetunnel.ingress.config.TunnelProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.proxy.ClusterForwarder;
import io.edgetunnel.ingress.proxy.ForwardedRequestHandler;
import io.edgetunnel.ingress.proxy.OpenWebSockets;
import io.edgetunnel.ingress.proxy.ProxyHandler;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.lettuce.core.resource.ClientResources;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * Clustering is off unless {@code ingress.cluster.redis-url} is set; then the directory, the cluster
 * port and forwarding join the single-replica ingress, which otherwise behaves exactly as before.
 */
@Configuration(proxyBeanMethods = false)
class ClusterConfiguration {

    @Bean
    @Conditional(ClusterEnabled.Off.class)
    ReplicaInfo replicaInfo(ClusterProperties properties) {
        return StandaloneReplica.of(properties);
    }

    @Bean
    PeerLinkCounts peerLinkCounts(MeterRegistry meters) {
        return new PeerLinkCounts(meters);
    }

    /** Registered with or without a cluster, so dashboards and alerts need no special case. */
    @Bean
    Object clusterMeters(ReplicaInfo replica, MeterRegistry meters) {
        Gauge.builder("tunnel.ingress.cluster.replicas", replica, ReplicaInfo::replicaCount)
                .description("Replicas in this replica's view of the cluster, itself included")
                .register(meters);
        Gauge.builder("tunnel.ingress.cluster.degraded", replica, r -> r.degraded() ? 1 : 0)
                .description("1 while the cluster directory (Redis) cannot be reached: only local agents are served")
                .register(meters);
        return ForwardedRequestHandler.rejectedCounter(meters);
    }

    @Configuration(proxyBeanMethods = false)
    @Conditional(ClusterEnabled.On.class)
    static class Enabled {

        @Bean
        ClusterIdentity clusterIdentity(ClusterProperties properties) {
            return ClusterIdentity.resolve(properties);
        }

        @Bean(destroyMethod = "shutdown")
        ClientResources clusterRedisResources() {
            return RedisConnections.resources();
        }

        @Bean
        LettuceConnectionFactory clusterRedis(ClusterProperties properties, ClientResources clusterRedisResources) {
            return RedisConnections.factory(properties, clusterRedisResources);
        }

        @Bean
        RemoteRoutes remoteRoutes(ClusterProperties properties) {
            return new RemoteRoutes(properties.vacatedGrace().toNanos());
        }

        @Bean
        HopSignature hopSignature(ClusterProperties properties, ClusterIdentity identity) {
            return new HopSignature(properties.secret(), identity.replicaId());
        }

        @Bean
        ClusterServer clusterServer(ClusterProperties properties, TunnelProperties tunnel, ProxyHandler proxy,
                HopSignature signature, MeterRegistry meters, ObjectProvider<ReactorResourceFactory> resources,
                ClusterIdentity identity, AgentRegistry registry, IngressMetrics metrics, PeerLinkCounts counts,
                @org.springframework.beans.factory.annotation.Value("${server.max-http-request-header-size:16KB}")
                org.springframework.util.unit.DataSize publicHeaderLimit) {
            var handler = WebHttpHandlerBuilder.webHandler(new ForwardedRequestHandler(proxy, signature, meters))
                    .exceptionHandler(ForwardedRequestHandler::onUnhandled)
                    .build();
            int maxHeaderBytes = (int) Math.min(Integer.MAX_VALUE / 2, publicHeaderLimit.toBytes()) + 8192;
            // every replica accepts peer links, whichever transport it sends with itself
            LinkAcceptor links = new LinkAcceptor(signature, tunnel, registry, identity.replicaId(), metrics.bufferedBytes(),
                    meters, counts);
            return new ClusterServer(properties.address(), properties.port(), handler, links, loops(resources),
                    tunnel.drainTimeout(), maxHeaderBytes);
        }

        @Bean
        @ConditionalOnProperty(name = "ingress.cluster.transport",
                havingValue = "link", matchIfMissing = true)
        PeerLinks peerLinks(ClusterProperties properties, TunnelProperties tunnel, HopSignature signature,
                RemoteRoutes remote, IngressMetrics metrics, PeerLinkCounts counts,
                ObjectProvider<ReactorResourceFactory> resources) {
            return new PeerLinks(signature, remote, tunnel, properties, metrics.bufferedBytes(), loops(resources), counts);
        }

        @Bean
        ClusterDirectory replicaInfo(ClusterProperties properties, ClusterIdentity identity,
                LettuceConnectionFactory clusterRedis, AgentRegistry registry, RemoteRoutes remote,
                ClusterServer server) {
            return new ClusterDirectory(properties, clusterRedis, registry, remote,
                    identity.replicaId(), identity.address(), server::port);
        }

        @Bean
        ClusterForwarder clusterForwarder(ClusterProperties properties, RemoteRoutes remote, HopSignature signature,
                ProxyProperties proxy, IngressMetrics metrics, OpenWebSockets open,
                ObjectProvider<ReactorResourceFactory> resources) {
            ConnectionProvider pool = ConnectionProvider.builder("ingress-cluster")
                    .maxConnections(4096)
                    // bounded: a replica that stops answering must not collect requests without limit
                    .pendingAcquireMaxCount(8192)
                    .pendingAcquireTimeout(properties.connectTimeout().multipliedBy(2))
                    // below the other replica's idle timeout, so a pooled connection is never closed under a request
                    .maxIdleTime(Duration.ofSeconds(60))
                    .evictInBackground(Duration.ofSeconds(30))
                    .build();
            HttpClient client = HttpClient.create(pool)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) properties.connectTimeout().toMillis())
                    .option(ChannelOption.SO_KEEPALIVE, true)
                    .keepAlive(true);
            LoopResources loops = loops(resources);
            if (loops != null) {
                client = client.runOn(loops);
            }
            return new ClusterForwarder(remote, signature, client, proxy, metrics, open);
        }

        private static LoopResources loops(ObjectProvider<ReactorResourceFactory> resources) {
            ReactorResourceFactory factory = resources.getIfAvailable();
            return factory == null ? null : factory.getLoopResources();
        }
    }
}
