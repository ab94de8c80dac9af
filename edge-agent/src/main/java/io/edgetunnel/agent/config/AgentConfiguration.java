package io.edgetunnel.agent.config;

import io.edgetunnel.agent.health.LocalHealthChecker;
import io.edgetunnel.agent.health.TunnelReadinessIndicator;
import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.agent.tunnel.TunnelClient;
import io.edgetunnel.agent.tunnel.TunnelCredentials;
import io.edgetunnel.agent.tunnel.TunnelLifecycle;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Wires the agent: properties, local forwarder, local health checks, tunnel client and its
 * lifecycle, readiness.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(AgentProperties.class)
public class AgentConfiguration {

    @Bean
    @ConfigurationPropertiesBinding
    static RouteStringConverter routeStringConverter() {
        return new RouteStringConverter();
    }

    @Bean
    @ConfigurationPropertiesBinding
    static TcpRouteStringConverter tcpRouteStringConverter() {
        return new TcpRouteStringConverter();
    }

    @Bean
    LocalAppForwarder localAppForwarder(AgentProperties properties, MeterRegistry meters) {
        return new LocalAppForwarder(properties.local(), meters, properties.tunnelCount(), properties.dns());
    }

    @Bean
    LocalHealthChecker localHealthChecker(AgentProperties properties, MeterRegistry meters, LocalAppForwarder forwarder) {
        return new LocalHealthChecker(properties.allRoutes(), meters, forwarder.tcp(), forwarder.dnsTargets());
    }

    /** Exposes {@link TunnelClient#connectedTunnels()} to tests and launchers. */
    @Bean
    TunnelClient tunnelClient(
            AgentProperties properties,
            LocalAppForwarder forwarder,
            MeterRegistry meters,
            ObjectProvider<TunnelCredentials> credentials,
            LocalHealthChecker health,
            Environment environment) {
        IngressTransport.check(properties.ingressUri(), environment);
        TunnelClient client = new TunnelClient(
                properties,
                forwarder,
                meters,
                credentials.getIfAvailable(() -> TunnelCredentials.token(properties.token())),
                health);
        // every open tunnel tells the ingress, which stops or resumes routing the route here
        health.addListener(change -> client.routeHealthChanged(change.route()));
        return client;
    }

    @Bean
    TunnelLifecycle tunnelLifecycle(TunnelClient client, AgentProperties properties) {
        return new TunnelLifecycle(client, properties.drainTimeout());
    }

    @Bean
    TunnelReadinessIndicator tunnelsHealthIndicator(TunnelClient client) {
        return new TunnelReadinessIndicator(client);
    }
}
