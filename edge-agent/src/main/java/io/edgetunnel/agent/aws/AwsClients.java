package io.edgetunnel.agent.aws;

import java.net.URI;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * Builds the agent's AWS SDK clients: synchronous, on the JDK-based {@code url-connection-client}
 * (the SDK's Netty client is built for Netty 4.1 and clashes with Boot's Netty 4.2). Callers run
 * them on {@code Schedulers.boundedElastic()}, never on an event loop.
 *
 * <p>Clients are created lazily, so an agent that never talks to AWS (local profile) needs neither
 * a region nor credentials. Closing this closes every client built.
 */
public final class AwsClients implements AutoCloseable {

    private final AgentAwsProperties properties;
    private final AwsCredentialsProvider credentials;
    private final SdkHttpClient httpClient = UrlConnectionHttpClient.create();
    private volatile StsClient sts;
    private volatile EcsClient ecs;
    private volatile SecretsManagerClient secretsManager;
    private volatile Region region;

    public AwsClients(AgentAwsProperties properties, AwsCredentialsProvider credentials) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    /** Production: the SDK's default credentials chain (the ECS task role on an Anywhere host). */
    public static AwsClients withDefaultCredentials(AgentAwsProperties properties) {
        return new AwsClients(properties, DefaultCredentialsProvider.builder().build());
    }

    public AwsCredentialsProvider credentials() {
        return credentials;
    }

    /** The configured region, or the SDK default chain's ({@code AWS_REGION}, profile, IMDS). */
    public Region region() {
        Region r = region;
        if (r == null) {
            r = properties.region().isEmpty()
                    ? DefaultAwsRegionProviderChain.builder().build().getRegion()
                    : Region.of(properties.region());
            region = r;
        }
        return r;
    }

    public synchronized StsClient sts() {
        if (sts == null) {
            sts = configure(StsClient.builder(), properties.endpointFor(properties.stsEndpoint())).build();
        }
        return sts;
    }

    public synchronized EcsClient ecs() {
        if (ecs == null) {
            ecs = configure(EcsClient.builder(), properties.endpointFor(properties.ecsEndpoint())).build();
        }
        return ecs;
    }

    public synchronized SecretsManagerClient secretsManager() {
        if (secretsManager == null) {
            secretsManager = configure(SecretsManagerClient.builder(),
                            properties.endpointFor(properties.secretsmanagerEndpoint()))
                    .build();
        }
        return secretsManager;
    }

    private <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configure(B builder, URI endpoint) {
        builder.httpClient(httpClient)
                .region(region())
                .credentialsProvider(credentials)
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallTimeout(properties.apiCallTimeout())
                        .retryStrategy(properties.maxAttempts() == 1
                                ? AwsRetryStrategy.doNotRetry()
                                : AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                        .maxAttempts(properties.maxAttempts())
                                        .build())
                        .build());
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder;
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
        httpClient.close();
    }
}
