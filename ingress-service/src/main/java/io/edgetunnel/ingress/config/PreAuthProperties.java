package io.edgetunnel.ingress.config;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The tunnel endpoint before a connection has authenticated ({@code ingress.tunnel.pre-auth.*}):
 * what a stranger who can reach port 8082 may cost the ingress.
 *
 * @param maxConnections connections not yet authenticated, from everyone together; more are
 *     refused with 503 before the WebSocket handshake
 * @param maxConnectionsPerSource connections not yet authenticated from one source (the client
 *     address, the last {@code X-Forwarded-For} entry behind a trusted proxy); more get 429
 * @param authTimeout from a hello's arrival to its answer; a verification that takes longer is
 *     rejected ({@code IDENTITY_UNVERIFIED}) and counts as a failed hello
 * @param verifyThreads threads that run verifications (STS, ECS, Secrets Manager), apart from the
 *     shared {@code boundedElastic} pool
 * @param maxVerifying hellos being verified at once; further ones are rejected with {@code
 *     RATE_LIMITED} at once instead of queueing
 */
@Validated
@ConfigurationProperties("ingress.tunnel.pre-auth")
public record PreAuthProperties(
        @DefaultValue("256") @Min(1) int maxConnections,
        @DefaultValue("8") @Min(1) int maxConnectionsPerSource,
        @DefaultValue("10s") @NotNull Duration authTimeout,
        @DefaultValue("4") @Min(1) int verifyThreads,
        @DefaultValue("32") @Min(1) int maxVerifying) {

    public PreAuthProperties {
        if (authTimeout != null && (authTimeout.isZero() || authTimeout.isNegative())) {
            throw new IllegalArgumentException("ingress.tunnel.pre-auth.auth-timeout: " + authTimeout
                    + " (expected: > 0)");
        }
    }
}
