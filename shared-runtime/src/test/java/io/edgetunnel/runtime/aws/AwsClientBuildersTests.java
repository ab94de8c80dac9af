package io.edgetunnel.runtime.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsServiceClientConfiguration;

class AwsClientBuildersTests {

    private static final StaticCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "secret"));

    @Test
    void configuresRegionCredentialsEndpointTimeoutAndRetries() {
        try (AwsClientBuilders builders = new AwsClientBuilders(" eu-west-1 ", Duration.ofSeconds(7), 2, CREDENTIALS);
                StsClient sts = builders.configure(StsClient.builder(), URI.create("http://127.0.0.1:4566")).build()) {
            StsServiceClientConfiguration config = sts.serviceClientConfiguration();

            assertThat(config.region()).isEqualTo(Region.EU_WEST_1);
            assertThat(config.endpointOverride()).contains(URI.create("http://127.0.0.1:4566"));
            assertThat(config.credentialsProvider()).isSameAs(CREDENTIALS);
            assertThat(config.overrideConfiguration().apiCallTimeout()).contains(Duration.ofSeconds(7));
            assertThat(config.overrideConfiguration().retryStrategy())
                    .hasValueSatisfying(retries -> assertThat(retries.maxAttempts()).isEqualTo(2));
        }
    }

    @Test
    void withoutAnEndpointTheClientUsesTheRegionsOwn() {
        try (AwsClientBuilders builders = new AwsClientBuilders("us-east-2", Duration.ofSeconds(10), 1, CREDENTIALS);
                StsClient sts = builders.configure(StsClient.builder(), null).build()) {
            assertThat(sts.serviceClientConfiguration().endpointOverride()).isEmpty();
            assertThat(sts.serviceClientConfiguration().overrideConfiguration().retryStrategy())
                    .hasValueSatisfying(retries -> assertThat(retries.maxAttempts()).isEqualTo(1));
        }
    }

    @Test
    void rejectsANonPositiveTimeoutAndNoAttempts() {
        assertThatThrownBy(() -> new AwsClientBuilders("", Duration.ZERO, 3, CREDENTIALS))
                .hasMessage("apiCallTimeout: PT0S (expected: > 0)");
        assertThatThrownBy(() -> new AwsClientBuilders("", Duration.ofSeconds(1), 0, CREDENTIALS))
                .hasMessage("maxAttempts: 0 (expected: >= 1)");
    }
}
