package io.edgetunnel.ingress.security.policy;

import io.edgetunnel.ingress.config.AuthProperties;
import io.edgetunnel.ingress.config.PreAuthProperties;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.security.VerificationPool;
import io.edgetunnel.ingress.security.iam.CallerIdentityVerifier;
import io.edgetunnel.ingress.security.iam.EcsCheckProperties;
import io.edgetunnel.ingress.security.iam.EcsTaskVerifier;
import io.edgetunnel.ingress.security.iam.IamAuthProperties;
import io.edgetunnel.ingress.security.iam.IngressAwsClients;
import io.edgetunnel.ingress.security.iam.IngressAwsProperties;
import io.edgetunnel.ingress.security.secrets.RotatingTokenVerifier;
import io.edgetunnel.ingress.security.secrets.TokenLoaders;
import java.net.URI;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;

/**
 * Wires agent authentication: the token source, the IAM proof verifier, host policy and limits, all
 * behind one {@link PolicyAuthenticator} (the {@code AgentAuthenticator} the tunnel endpoint uses).
 * Everything that can be misconfigured fails here, at startup, with the property to fix.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({
    AuthProperties.class,
    IamAuthProperties.class,
    EcsCheckProperties.class,
    IngressAwsProperties.class,
    HostPolicyProperties.class,
    TrustedProxiesProperties.class,
    PreAuthProperties.class
})
public class IngressSecurityConfiguration {

    private static final Logger log = LoggerFactory.getLogger(IngressSecurityConfiguration.class);

    @Bean(destroyMethod = "close")
    IngressAwsClients ingressAwsClients(IngressAwsProperties properties) {
        return IngressAwsClients.withDefaultCredentials(properties);
    }

    /** Hello verifications' own threads and in-flight cap ({@code ingress.tunnel.pre-auth.*}). */
    @Bean(destroyMethod = "close")
    VerificationPool verificationPool(PreAuthProperties preAuth) {
        return new VerificationPool(preAuth.verifyThreads(), preAuth.maxVerifying());
    }

    @Bean(destroyMethod = "close")
    RotatingTokenVerifier rotatingTokenVerifier(AuthProperties tokens,
            IngressAwsClients aws, Environment environment, VerificationPool pool) {
        RotatingTokenVerifier verifier = RotatingTokenVerifier.of(tokens,
                TokenLoaders.from(tokens, aws::secretsManager), Clock.systemUTC()).verifyingOn(pool.scheduler());
        if (!AuthMode.resolve(tokens.mode(), isProd(environment)).needsToken()) {
            return verifier;
        }
        if (tokens.token().isBlank() && !tokens.refreshable()) {
            if (!environment.acceptsProfiles(Profiles.of("local"))) {
                throw new IllegalStateException("ingress.auth.token: empty (expected: a shared agent token from "
                        + "TUNNEL_TOKEN, ingress.auth.token-file or ingress.auth.token-secret-id "
                        + "(INGRESS_AUTH_TOKEN_SECRET_ID); only the 'local' profile may leave it unset)");
            }
            log.warn("No agent token configured ('local' profile): every token hello will be rejected");
            return verifier;
        }
        return verifier.loadNow().startSchedule();
    }

    @Bean
    @Primary
    PolicyAuthenticator policyAuthenticator(AuthProperties auth, RotatingTokenVerifier tokens,
            IamAuthProperties iamProperties, EcsCheckProperties ecsProperties, IngressAwsClients aws,
            HostPolicyProperties policyProperties, TrustedProxiesProperties proxies, AgentRegistry registry,
            Environment environment, VerificationPool pool) {
        boolean prod = isProd(environment);
        AuthMode mode = AuthMode.resolve(auth.mode(), prod);
        CallerIdentityVerifier iam = null;
        if (mode.needsIam()) {
            URI stsUrl = iamProperties.stsUrl() != null
                    ? iamProperties.stsUrl()
                    : CallerIdentityVerifier.regionalStsUrl(region(aws));
            Optional<EcsTaskVerifier> ecs = ecsProperties.enabled()
                    ? Optional.of(new EcsTaskVerifier(ecsProperties, aws::ecs, aws::ssm))
                    : Optional.empty();
            iam = new CallerIdentityVerifier(iamProperties, stsUrl, Clock.systemUTC(), ecs).verifyingOn(pool.scheduler());
            if (!ecsProperties.hostsTag().isEmpty() && !ecsProperties.enabled()) {
                throw new IllegalStateException("ingress.ecs.hosts-tag=" + ecsProperties.hostsTag()
                        + " needs the ECS task check that finds each agent's instance (expected: ingress.ecs.cluster, "
                        + "env INGRESS_ECS_CLUSTER, the agents' cluster)");
            }
            log.info("Agent IAM proofs: server id {}, sent to {}, connection nonce {}, ECS task check {}",
                    iamProperties.serverId(), stsUrl, iamProperties.requireNonce() ? "required" : "optional",
                    ecs.isPresent() ? "on (cluster " + ecsProperties.cluster() + (ecsProperties.perHostClaims()
                            ? ", hosts per instance from SSM tag " + ecsProperties.hostsTag() : "") + ")" : "off");
            if (iamProperties.allowedAccounts().isEmpty() && iamProperties.allowedRoleArns().isEmpty()) {
                log.warn("ingress.iam.allowed-accounts and allowed-role-arns are both empty: every IAM hello will be "
                        + "refused until one of them is set");
            }
        }
        HostPolicy policy = policy(policyProperties, environment, prod);
        log.info("Agent authentication: mode {}, {}", mode.label(), policy);
        return new PolicyAuthenticator(mode, mode.needsToken() ? tokens : null, iam, policy, policyProperties,
                new FailedHelloLimiter(policyProperties.failedHellos(), Clock.systemUTC()),
                registry::identityTunnelCount, TrustedProxies.of(proxies.trustedProxies()));
    }

    /**
     * An empty rule list lets any authenticated agent claim any host only in the {@code local}
     * profile (never together with {@code dev} or {@code prod}); anywhere else it refuses every claim,
     * a container started without a profile included. {@code when-empty=allow} forces allow-all
     * outside a deployed profile (tests do); in {@code dev} or {@code prod} it is a startup error.
     */
    private static HostPolicy policy(HostPolicyProperties properties, Environment environment, boolean prod) {
        if (!properties.rules().isEmpty()) {
            return HostPolicy.of(properties.rules());
        }
        boolean deployed = environment.acceptsProfiles(Profiles.of("dev | prod"));
        boolean local = environment.acceptsProfiles(Profiles.of("local")) && !deployed;
        if (deployed && properties.whenEmpty().equals("allow")) {
            throw new IllegalStateException("ingress.policy.when-empty=allow with no ingress.policy.rules: any agent "
                    + "could claim any host (expected: rules naming which identity may claim which hosts; allowing "
                    + "all is for the 'local' profile only)");
        }
        boolean allow = switch (properties.whenEmpty()) {
            case "allow" -> true;
            case "deny" -> false;
            default -> local;
        };
        if (!allow) {
            log.warn("ingress.policy.rules is empty and the policy denies by default: every hello will be rejected "
                    + "with HOST_NOT_ALLOWED until rules are configured");
            return HostPolicy.of(java.util.List.of());
        }
        if (!environment.acceptsProfiles(Profiles.of("local"))) {
            log.warn("ingress.policy.rules is empty: any authenticated agent may claim any host (set rules, or "
                    + "ingress.policy.when-empty=deny)");
        }
        return HostPolicy.allowAll();
    }

    private static String region(IngressAwsClients aws) {
        try {
            return aws.region().id();
        } catch (software.amazon.awssdk.core.exception.SdkClientException e) {
            throw new IllegalStateException("ingress.iam.sts-url: unset and no AWS region to derive it from "
                    + "(expected: AWS_REGION, ingress.aws.region or ingress.iam.sts-url)", e);
        }
    }

    private static boolean isProd(Environment environment) {
        return environment.acceptsProfiles(Profiles.of("prod"));
    }
}
