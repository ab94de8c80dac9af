package io.edgetunnel.ingress.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.List;
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
 * @param h2c also accept HTTP/2 cleartext on the public port by prior knowledge (the ALB speaks
 *     HTTP/2 to targets whose group uses HTTP2 or gRPC); HTTP/1.1 is always accepted. Off by default:
 *     turn it on only where such a target group sends here
 * @param h2cUpgradeHosts hosts ({@code *.suffix} allowed) whose requests may switch to HTTP/2 with
 *     {@code Upgrade: h2c} when {@code h2c} is on; for every other host the upgrade is ignored and
 *     the request answered over HTTP/1.1. Empty (the default): none
 * @param cookieDomains what happens to an app's {@code Set-Cookie} whose {@code Domain} reaches
 *     beyond its route's host: {@code narrow} (the attribute is removed, so the cookie is the
 *     request host's alone) or {@code strip} (the header is dropped)
 */
@Validated
@ConfigurationProperties("ingress.proxy")
public record ProxyProperties(
        @DefaultValue("60s") @NotNull Duration responseTimeout,
        @DefaultValue("-1") @Min(-1) long maxRequestBodyBytes,
        @DefaultValue("5s") @NotNull Duration retryAfter,
        @DefaultValue @NotNull @Valid Websocket websocket,
        @DefaultValue("false") boolean h2c,
        @DefaultValue List<String> h2cUpgradeHosts,
        @DefaultValue("narrow") @NotNull CookieDomains cookieDomains) {

    public ProxyProperties {
        h2cUpgradeHosts = h2cUpgradeHosts == null ? List.of() : List.copyOf(h2cUpgradeHosts);
        HostPatterns.of("ingress.proxy.h2c-upgrade-hosts", h2cUpgradeHosts);
        if (responseTimeout != null && (responseTimeout.isZero() || responseTimeout.isNegative())) {
            throw new IllegalArgumentException("ingress.proxy.response-timeout: " + responseTimeout + " (expected: > 0)");
        }
        if (retryAfter != null && retryAfter.isNegative()) {
            throw new IllegalArgumentException("ingress.proxy.retry-after: " + retryAfter + " (expected: >= 0)");
        }
    }

    /** What to do with a {@code Set-Cookie} whose {@code Domain} is broader than its route. */
    public enum CookieDomains {
        NARROW,
        STRIP
    }

    /** The hosts that may upgrade to h2c. */
    public HostPatterns h2cUpgrade() {
        return HostPatterns.of("ingress.proxy.h2c-upgrade-hosts", h2cUpgradeHosts);
    }

    public boolean bodyLimited() {
        return maxRequestBodyBytes >= 0;
    }

    /**
     * WebSocket passthrough ({@code ingress.proxy.websocket.*}).
     *
     * @param maxFrameBytes largest WebSocket frame payload accepted from a public client, and the
     *     most one compressed frame may inflate to; larger frames close the socket with 1009
     *     (messages may be larger, in several frames)
     * @param compressHosts hosts ({@code *.suffix} allowed) whose WebSockets negotiate
     *     permessage-deflate with clients that offer it; empty (the default): none
     */
    public record Websocket(
            @DefaultValue("1MB") @NotNull DataSize maxFrameBytes,
            @DefaultValue List<String> compressHosts) {
        public Websocket {
            compressHosts = compressHosts == null ? List.of() : List.copyOf(compressHosts);
            HostPatterns.of("ingress.proxy.websocket.compress-hosts", compressHosts);
            if (maxFrameBytes != null
                    && (maxFrameBytes.toBytes() < 125 || maxFrameBytes.toBytes() > Integer.MAX_VALUE)) {
                throw new IllegalArgumentException("ingress.proxy.websocket.max-frame-bytes: " + maxFrameBytes
                        + " (expected: 125B..2GB)");
            }
        }

        /** The hosts whose WebSockets may be compressed. */
        public HostPatterns compression() {
            return HostPatterns.of("ingress.proxy.websocket.compress-hosts", compressHosts);
        }
    }
}
