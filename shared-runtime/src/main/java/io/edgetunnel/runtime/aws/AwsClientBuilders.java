package io.edgetunnel.runtime.aws;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

/**
 * How both services configure an AWS SDK client: synchronous, on the JDK-based {@code
 * url-connection-client} (the SDK's Netty client is built for Netty 4.1 and clashes with Boot's Netty
 * 4.2), one HTTP client shared by every service client, the configured or default-chain region, one
 * credentials provider, a whole-call timeout and a retry budget, and an optional endpoint per client
 * (tests, VPC endpoints). Callers run the clients on {@code Schedulers.boundedElastic()}, never on an
 * event loop, and build them lazily, so a service that never talks to AWS needs neither a region nor
 * credentials. Closing this closes the shared HTTP client: close the service clients first.
 */
public final class AwsClientBuilders implements AutoCloseable {

    private final String region;
    private final Duration apiCallTimeout;
    private final int maxAttempts;
    private final AwsCredentialsProvider credentials;
    private final SdkHttpClient httpClient = UrlConnectionHttpClient.create();
    private volatile Region resolvedRegion;

    /**
     * @param region AWS region; empty means the SDK's default chain ({@code AWS_REGION}, profile, IMDS)
     * @param apiCallTimeout whole-call timeout for each API call, retries included
     * @param maxAttempts attempts per call (1 = no retries)
     */
    public AwsClientBuilders(String region, Duration apiCallTimeout, int maxAttempts, AwsCredentialsProvider credentials) {
        this.region = Objects.requireNonNull(region, "region").trim();
        this.apiCallTimeout = Objects.requireNonNull(apiCallTimeout, "apiCallTimeout");
        if (apiCallTimeout.isNegative() || apiCallTimeout.isZero()) {
            throw new IllegalArgumentException("apiCallTimeout: " + apiCallTimeout + " (expected: > 0)");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
        }
        this.maxAttempts = maxAttempts;
        this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    public AwsCredentialsProvider credentials() {
        return credentials;
    }

    /** The configured region, or the SDK default chain's; resolved once, on first use. */
    public Region region() {
        Region r = resolvedRegion;
        if (r == null) {
            r = region.isEmpty() ? DefaultAwsRegionProviderChain.builder().build().getRegion() : Region.of(region);
            resolvedRegion = r;
        }
        return r;
    }

    /** {@code builder} with the shared HTTP client, region, credentials, timeout and retries; {@code endpoint} if not null. */
    public <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configure(B builder, URI endpoint) {
        builder.httpClient(httpClient)
                .region(region())
                .credentialsProvider(credentials)
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallTimeout(apiCallTimeout)
                        .retryStrategy(maxAttempts == 1
                                ? AwsRetryStrategy.doNotRetry()
                                : AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                        .maxAttempts(maxAttempts)
                                        .build())
                        .build());
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder;
    }

    @Override
    public void close() {
        httpClient.close();
    }
}
