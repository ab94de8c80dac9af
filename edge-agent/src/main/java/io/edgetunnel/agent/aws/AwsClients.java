package io.edgetunnel.agent.aws;

import io.edgetunnel.runtime.aws.AwsClientBuilders;
import java.util.Objects;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Builds the agent's AWS SDK clients: synchronous, on the JDK-based {@code url-connection-client}
 * (the SDK's Netty client is built for Netty 4.1 and clashes with Boot's Netty 4.2). Callers run
 * them on {@code Schedulers.boundedElastic()}, never on an event loop.
 *
 * <p>Clients are created lazily, so an agent that never talks to AWS (local profile) needs neither
 * a region nor credentials; the shared HTTP client and the default credentials chain too, so such an
 * agent never loads them (~100 SDK classes less on a small host). Closing this closes every client built.
 */
public final class AwsClients implements AutoCloseable {

    private final AgentAwsProperties properties;
    private final Supplier<AwsCredentialsProvider> credentials;
    private AwsClientBuilders builders;
    private volatile StsClient sts;
    private volatile EcsClient ecs;
    private volatile SecretsManagerClient secretsManager;

    public AwsClients(AgentAwsProperties properties, AwsCredentialsProvider credentials) {
        this(properties, supplier(Objects.requireNonNull(credentials, "credentials")));
    }

    AwsClients(AgentAwsProperties properties, Supplier<AwsCredentialsProvider> credentials) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    private static Supplier<AwsCredentialsProvider> supplier(AwsCredentialsProvider credentials) {
        return () -> credentials;
    }

    /** Production: the SDK's default credentials chain (the ECS task role on an Anywhere host), built on first use. */
    public static AwsClients withDefaultCredentials(AgentAwsProperties properties) {
        return new AwsClients(properties, () -> DefaultCredentialsProvider.builder().build());
    }

    public AwsCredentialsProvider credentials() {
        return builders().credentials();
    }

    /** The configured region, or the SDK default chain's ({@code AWS_REGION}, profile, IMDS). */
    public Region region() {
        return builders().region();
    }

    private synchronized AwsClientBuilders builders() {
        if (builders == null) {
            builders = new AwsClientBuilders(properties.region(), properties.apiCallTimeout(), properties.maxAttempts(),
                    credentials.get());
        }
        return builders;
    }

    public synchronized StsClient sts() {
        if (sts == null) {
            sts = builders().configure(StsClient.builder(), properties.endpointFor(properties.stsEndpoint())).build();
        }
        return sts;
    }

    public synchronized EcsClient ecs() {
        if (ecs == null) {
            ecs = builders().configure(EcsClient.builder(), properties.endpointFor(properties.ecsEndpoint())).build();
        }
        return ecs;
    }

    public synchronized SecretsManagerClient secretsManager() {
        if (secretsManager == null) {
            secretsManager = builders().configure(SecretsManagerClient.builder(),
                            properties.endpointFor(properties.secretsmanagerEndpoint()))
                    .build();
        }
        return secretsManager;
    }


    @Override
    public synchronized void close() {
        if (sts != null) {
            sts.close();
        }
        if (ecs != null) {
            ecs.close();
        }
        if (secretsManager != null) {
            secretsManager.close();
        }
        if (builders != null) {
            builders.close();
        }
    }
}
