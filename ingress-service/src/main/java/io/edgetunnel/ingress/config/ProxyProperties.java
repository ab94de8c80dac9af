package io.edgetunnel.ingress.config;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Public request handling ({@code ingress.proxy.*}).
 *
 * @param responseTimeout time from request to response headers before the client gets 504 and the
 *     agent is told to cancel
 * @param maxRequestBodyBytes request bodies above this get 413; -1 means unlimited
 * @param retryAfter the {@code Retry-After} sent with 503 when no agent can take a request
 */
@Validated
@ConfigurationProperties("ingress.proxy")
public record ProxyProperties(
        @DefaultValue("60s") @NotNull Duration responseTimeout,
        @DefaultValue("-1") @Min(-1) long maxRequestBodyBytes,
        @DefaultValue("5s") @NotNull Duration retryAfter) {

    public ProxyProperties {
        if (responseTimeout != null && (responseTimeout.isZero() || responseTimeout.isNegative())) {
            throw new IllegalArgumentException("ingress.proxy.response-timeout: " + responseTimeout + " (expected: > 0)");
        }
        if (retryAfter != null && retryAfter.isNegative()) {
            throw new IllegalArgumentException("ingress.proxy.retry-after: " + retryAfter + " (expected: >= 0)");
        }
    }

    public boolean bodyLimited() {
        return maxRequestBodyBytes >= 0;
    }
}
