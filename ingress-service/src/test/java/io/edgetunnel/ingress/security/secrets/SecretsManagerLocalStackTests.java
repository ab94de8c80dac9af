package io.edgetunnel.ingress.security.secrets;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.config.AuthProperties;
import io.edgetunnel.ingress.security.iam.IngressAwsClients;
import io.edgetunnel.ingress.security.iam.IngressAwsProperties;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Optional: the same rotation against LocalStack's Secrets Manager. Skipped where no Docker engine
 * exists (CI here); {@link RotatingTokenVerifierTests} covers the behaviour with WireMock.
 * 4.14.0 is the last LocalStack image that runs without an auth token.
 */
@Testcontainers(disabledWithoutDocker = true)
class SecretsManagerLocalStackTests {

    @Container
    static LocalStackContainer localstack =
            new LocalStackContainer(DockerImageName.parse("localstack/localstack:4.14.0")).withServices("secretsmanager");

    @Test
    void currentAndPreviousAreAcceptedAfterARotation() {
        try (IngressAwsClients clients = new IngressAwsClients(
                new IngressAwsProperties(localstack.getRegion(), localstack.getEndpoint(), null, null, null,
                        Duration.ofSeconds(30), 1),
                StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(localstack.getAccessKey(), localstack.getSecretKey())))) {
            clients.secretsManager().createSecret(r -> r.name("edge/ls-token").secretString("ls-token-v1"));
            AuthProperties properties =
                    new AuthProperties("", "", null, "edge/ls-token", "shared", null, Duration.ZERO);
            RotatingTokenVerifier verifier = RotatingTokenVerifier.of(properties,
                    TokenLoaders.from(properties, clients::secretsManager), Clock.systemUTC()).loadNow();
            assertThat(verifier.verify("ls-token-v1").block()).isPresent();

            clients.secretsManager().putSecretValue(r -> r.secretId("edge/ls-token").secretString("ls-token-v2"));
            assertThat(verifier.verify("ls-token-v2").block()).isPresent();
            assertThat(verifier.verify("ls-token-v1").block()).isPresent();
        }
    }
}
