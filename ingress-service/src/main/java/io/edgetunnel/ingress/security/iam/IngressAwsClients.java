package io.edgetunnel.ingress.security.iam;

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
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The ingress's AWS SDK clients, built lazily (a token-only ingress never needs AWS): Secrets Manager, ECS, SSM: synchronous,
 * on {@code url-connection-client}, always called from {@code Schedulers.boundedElastic()}.
 */
public final class IngressAwsClients implements AutoCloseable {

    private final IngressAwsProperties properties;
    private final AwsCredentialsProvider credentials;
    private final SdkHttpClient httpClient = UrlConnectionHttpClient.create();
    private EcsClient ecs;
    private SecretsManagerClient secretsManager;
    private SsmClient ssm;

    public IngressAwsClients(IngressAwsProperties properties, AwsCredentialsProvider credentials) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    /** Production: the ingress task role through the SDK's default chain. */
    public static IngressAwsClients withDefaultCredentials(IngressAwsProperties properties) {
        return new IngressAwsClients(properties, DefaultCredentialsProvider.builder().build());
    }

    public Region region() {
        return properties.region().isEmpty()
                ? DefaultAwsRegionProviderChain.builder().build().getRegion()
                : Region.of(properties.region());
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

    public synchronized SsmClient ssm() {
        if (ssm == null) {
            ssm = configure(SsmClient.builder(), properties.endpointFor(properties.ssmEndpoint())).build();
        }
        return ssm;
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
        if (ecs != null) {
            ecs.close();
        }
        if (secretsManager != null) {
            secretsManager.close();
        }
        if (ssm != null) {
            ssm.close();
        }
        httpClient.close();
    }
}
