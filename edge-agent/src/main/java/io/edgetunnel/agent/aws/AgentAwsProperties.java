package io.edgetunnel.agent.aws;

import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How the agent reaches AWS ({@code agent.aws.*}). Everything is optional in production, where the
 * region comes from {@code AWS_REGION} and credentials from the ECS task role; the overrides exist
 * for tests (WireMock, LocalStack) and for VPC endpoints.
 *
 * @param region AWS region; empty means the SDK's default chain ({@code AWS_REGION}, profile)
 * @param endpointOverride one endpoint for every service (tests)
 * @param stsEndpoint endpoint for STS only; wins over {@code endpointOverride}
 * @param ecsEndpoint endpoint for ECS only; wins over {@code endpointOverride}
 * @param secretsmanagerEndpoint endpoint for Secrets Manager only; wins over {@code endpointOverride}
 * @param apiCallTimeout whole-call timeout for each AWS API call, retries included
 * @param maxAttempts attempts per call (1 = no retries)
 */
@ConfigurationProperties("agent.aws")
public record AgentAwsProperties(
        @DefaultValue("") String region,
        URI endpointOverride,
        URI stsEndpoint,
        URI ecsEndpoint,
        URI secretsmanagerEndpoint,
        @DefaultValue("10s") Duration apiCallTimeout,
        @DefaultValue("3") int maxAttempts) {

    public AgentAwsProperties {
        region = region == null ? "" : region.trim();
        apiCallTimeout = apiCallTimeout == null ? Duration.ofSeconds(10) : apiCallTimeout;
        if (apiCallTimeout.isNegative() || apiCallTimeout.isZero()) {
            throw new IllegalArgumentException(
                    "agent.aws.api-call-timeout: " + apiCallTimeout + " (expected: > 0)");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("agent.aws.max-attempts: " + maxAttempts + " (expected: >= 1)");
        }
    }

    /** Defaults only: the SDK chain for region and credentials, real AWS endpoints. */
    public static AgentAwsProperties defaults() {
        return new AgentAwsProperties("", null, null, null, null, Duration.ofSeconds(10), 3);
    }

    URI endpointFor(URI specific) {
        return specific != null ? specific : endpointOverride;
    }
}
