package io.edgetunnel.ingress.tcp;

import io.edgetunnel.ingress.cluster.PeerLinks;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import org.springframework.beans.factory.ObjectProvider;
import io.edgetunnel.ingress.registry.AgentRegistry;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the TCP listeners of TCP routes (docs/tcp.md). */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TcpProperties.class)
public class TcpConfiguration {

    @Bean
    @ConfigurationPropertiesBinding
    static TcpListenerStringConverter tcpListenerStringConverter() {
        return new TcpListenerStringConverter();
    }

    @Bean
    TcpServers tcpServers(TcpProperties properties, AgentRegistry registry, IngressMetrics metrics,
            ObjectProvider<PeerLinks> links) {
        return new TcpServers(properties, registry, metrics, links.getIfAvailable());
    }
}
