package io.edgetunnel.ingress.security.iam;

import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How the ingress reaches AWS ({@code ingress.aws.*}) for Secrets Manager and ECS. The STS endpoint
 * the IAM proof is sent to is {@code ingress.iam.sts-url}, not here.
 *
 * @param region AWS region; empty means the SDK default chain ({@code AWS_REGION})
 * @param endpointOverride one endpoint for every service (tests, VPC endpoints)
 * @param ecsEndpoint ECS only; wins over {@code endpointOverride}
 * @param secretsmanagerEndpoint Secrets Manager only; wins over {@code endpointOverride}
 * @param ssmEndpoint Systems Manager only (managed-instance tags); wins over {@code endpointOverride}
 * @param apiCallTimeout whole-call timeout, retries included
 * @param maxAttempts attempts per call (1 = no retries)
 */
@ConfigurationProperties("ingress.aws")
public record IngressAwsProperties(
        @DefaultValue("") String region,
        URI endpointOverride,
        URI ecsEndpoint,
        URI secretsmanagerEndpoint,
        URI ssmEndpoint,
        @DefaultValue("10s") Duration apiCallTimeout,
        @DefaultValue("3") int maxAttempts) {

    public IngressAwsProperties {
        region = region == null ? "" : region.trim();
        apiCallTimeout = apiCallTimeout == null ? Duration.ofSeconds(10) : apiCallTimeout;
        if (apiCallTimeout.isNegative() || apiCallTimeout.isZero()) {
            throw new IllegalArgumentException("ingress.aws.api-call-timeout: " + apiCallTimeout + " (expected: > 0)");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("ingress.aws.max-attempts: " + maxAttempts + " (expected: >= 1)");
        }
    }

    URI endpointFor(URI specific) {
        return specific != null ? specific : endpointOverride;
    }
}
