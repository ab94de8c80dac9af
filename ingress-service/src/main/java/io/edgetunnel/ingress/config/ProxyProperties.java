package io.edgetunnel.ingress.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Public request handling ({@code ingress.proxy.*}).
 *
 * @param responseTimeout time from request to response headers before the client gets 504 and the
 *     agent is told to cancel
 * @param maxRequestBodyBytes request bodies above this get 413; -1 means unlimited
 * @param retryAfter the {@code Retry-After} sent with 503 when no agent can take a request
 * @param websocket WebSocket passthrough settings
 * @param h2c also accept HTTP/2 cleartext on the public port, by prior knowledge and by {@code
 *     Upgrade: h2c} (the ALB speaks HTTP/2 to targets whose group uses HTTP2 or gRPC); HTTP/1.1 is
 *     always accepted
 */
@Validated
@ConfigurationProperties("ingress.proxy")
public record ProxyProperties(
        @DefaultValue("60s") @NotNull Duration responseTimeout,
        @DefaultValue("-1") @Min(-1) long maxRequestBodyBytes,
        @DefaultValue("5s") @NotNull Duration retryAfter,
        @DefaultValue @NotNull @Valid Websocket websocket,
        @DefaultValue("true") boolean h2c) {

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

    /**
     * WebSocket passthrough ({@code ingress.proxy.websocket.*}).
     *
     * @param maxFrameBytes largest WebSocket frame payload accepted from a public client; larger
     *     frames close the socket with 1009 (messages may be larger, in several frames)
     * @param compress negotiate permessage-deflate with clients that offer it
     */
    public record Websocket(
            @DefaultValue("16MB") @NotNull DataSize maxFrameBytes,
            @DefaultValue("true") boolean compress) {
        public Websocket {
            if (maxFrameBytes != null
                    && (maxFrameBytes.toBytes() < 125 || maxFrameBytes.toBytes() > Integer.MAX_VALUE)) {
                throw new IllegalArgumentException("ingress.proxy.websocket.max-frame-bytes: " + maxFrameBytes
                        + " (expected: 125B..2GB)");
            }
        }
    }
}
