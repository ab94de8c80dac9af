package io.edgetunnel.ingress.security.iam;

import io.edgetunnel.runtime.aws.AwsClientBuilders;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The ingress's AWS SDK clients, built lazily (a token-only ingress never needs AWS): Secrets Manager, ECS, SSM: synchronous,
 * on {@code url-connection-client}, always called from {@code Schedulers.boundedElastic()}.
 */
public final class IngressAwsClients implements AutoCloseable {

    private final IngressAwsProperties properties;
    private final AwsClientBuilders builders;
    private EcsClient ecs;
    private SecretsManagerClient secretsManager;
    private SsmClient ssm;

    public IngressAwsClients(IngressAwsProperties properties, AwsCredentialsProvider credentials) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.builders = new AwsClientBuilders(
                properties.region(), properties.apiCallTimeout(), properties.maxAttempts(), credentials);
    }

    /** Production: the ingress task role through the SDK's default chain. */
    public static IngressAwsClients withDefaultCredentials(IngressAwsProperties properties) {
        return new IngressAwsClients(properties, DefaultCredentialsProvider.builder().build());
    }

    public Region region() {
        return builders.region();
    }

    public synchronized EcsClient ecs() {
        if (ecs == null) {
            ecs = builders.configure(EcsClient.builder(), properties.endpointFor(properties.ecsEndpoint())).build();
        }
        return ecs;
    }

    public synchronized SecretsManagerClient secretsManager() {
        if (secretsManager == null) {
            secretsManager = builders.configure(SecretsManagerClient.builder(),
                            properties.endpointFor(properties.secretsmanagerEndpoint()))
                    .build();
        }
        return secretsManager;
    }

    public synchronized SsmClient ssm() {
        if (ssm == null) {
            ssm = builders.configure(SsmClient.builder(), properties.endpointFor(properties.ssmEndpoint())).build();
        }
        return ssm;
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
        builders.close();
    }
}
