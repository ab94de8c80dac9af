package io.edgetunnel.ingress.deploy;

import io.edgetunnel.ingress.security.iam.IngressAwsClients;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** How a replica learns, on ECS, that it is being taken out of service before SIGTERM says so. */
@Configuration(proxyBeanMethods = false)
class DeployConfiguration {

    @Bean
    DeregistrationWatcher deregistrationWatcher(DrainProperties properties, IngressAwsClients aws,
            TunnelServer tunnels, MeterRegistry registry) {
        return new DeregistrationWatcher(properties, properties.metadataReader(), aws::ecs, tunnels, registry);
    }
}
