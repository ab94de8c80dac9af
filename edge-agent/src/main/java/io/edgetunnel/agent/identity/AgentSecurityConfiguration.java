package io.edgetunnel.agent.identity;

import io.edgetunnel.agent.aws.AgentAwsProperties;
import io.edgetunnel.agent.aws.AwsClients;
import io.edgetunnel.agent.secrets.AgentTokenProperties;
import io.edgetunnel.agent.secrets.AgentTokenSource;
import io.edgetunnel.agent.tunnel.TunnelCredentials;
import java.net.URI;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;

/**
 * Wires the agent's identity and credentials, in the order that matters at startup: the ECS Anywhere
 * self-check first (in {@code verify} mode a failure stops the agent here, before any tunnel or
 * secret read), then the token source, then the {@link TunnelCredentials} the tunnel client uses.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({AgentAwsProperties.class, IdentityProperties.class, AgentTokenProperties.class})
public class AgentSecurityConfiguration {

    private static final Logger log = LoggerFactory.getLogger(AgentSecurityConfiguration.class);

    @Bean(destroyMethod = "close")
    AwsClients agentAwsClients(AgentAwsProperties properties) {
        return AwsClients.withDefaultCredentials(properties);
    }

    /** Blocks the main thread during startup (the check runs on boundedElastic). */
    @Bean
    IdentityStatus agentIdentityStatus(IdentityProperties properties, AwsClients aws, Environment environment) {
        IdentityProperties effective = properties;
        if (!environment.containsProperty("agent.identity.mode") && environment.acceptsProfiles(Profiles.of("local"))) {
            effective = properties.withMode(IdentityMode.OFF);
        }
        return new IdentitySelfCheck(effective, () -> aws).checkAtStartup();
    }

    @Bean
    AgentTokenSource agentTokenSource(AgentTokenProperties properties, AwsClients aws, IdentityStatus identity) {
        AgentTokenSource source = new AgentTokenSource(properties, aws::secretsManager, Clock.systemUTC()).load();
        log.info("Tunnel token from {}", source.source());
        return source;
    }

    @Bean
    TunnelCredentials agentTunnelCredentials(
            AgentTokenSource tokens, IdentityStatus identity, IdentityProperties properties, AwsClients aws) {
        Optional<CallerIdentityProofSigner> signer = Optional.empty();
        IdentityProperties.Proof proof = properties.proof();
        if (proof.enabled()) {
            String region = proof.region().isEmpty() ? region(aws) : proof.region();
            URI stsUrl = proof.stsUrl() != null ? proof.stsUrl() : CallerIdentityProofSigner.regionalStsUrl(region);
            signer = Optional.of(new CallerIdentityProofSigner(aws.credentials(), stsUrl, region, proof.serverId(),
                    Clock.systemUTC()));
            log.info("IAM identity proof on: signed for {} (region {}), server id {}", stsUrl, region, proof.serverId());
        }
        return new AgentTunnelCredentials(tokens, signer, identity);
    }

    private static String region(AwsClients aws) {
        try {
            return aws.region().id();
        } catch (software.amazon.awssdk.core.exception.SdkClientException e) {
            throw new IllegalStateException("agent.identity.proof.region: unset and no AWS region "
                    + "(expected: AWS_REGION, agent.aws.region or agent.identity.proof.region)", e);
        }
    }
}
