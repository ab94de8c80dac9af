package io.edgetunnel.agent.aws;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * An agent that never talks to AWS (identity off, token from the environment) must not build the
 * credentials chain or the SDK's HTTP client (which creates a TLS context): on a small host that is
 * ~380 classes and 2-3 MiB (docs/benchmarks.md, "Footprint").
 */
class AwsClientsLazinessTests {

    private static final AgentAwsProperties PROPERTIES =
            new AgentAwsProperties("eu-west-1", URI.create("http://127.0.0.1:9"), null, null, null, Duration.ofSeconds(5), 1);

    @Test
    void nothingIsBuiltUntilFirstUseAndThenOnce() {
        AtomicInteger built = new AtomicInteger();
        AwsCredentialsProvider credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b"));
        Supplier<AwsCredentialsProvider> supplier = () -> {
            built.incrementAndGet();
            return credentials;
        };
        AwsClients clients = new AwsClients(PROPERTIES, supplier);
        assertThat(built).hasValue(0);

        assertThat(clients.credentials()).isSameAs(credentials);
        assertThat(clients.region().id()).isEqualTo("eu-west-1");
        assertThat(built).hasValue(1);
        clients.close();
    }

    @Test
    void closingUnusedClientsBuildsNothing() {
        AtomicInteger built = new AtomicInteger();
        Supplier<AwsCredentialsProvider> credentials = () -> {
            built.incrementAndGet();
            return null;
        };
        new AwsClients(PROPERTIES, credentials).close();
        assertThat(built).hasValue(0);
    }
}
