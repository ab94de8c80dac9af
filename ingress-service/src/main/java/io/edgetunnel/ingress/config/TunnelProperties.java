package io.edgetunnel.ingress.config;

import io.edgetunnel.protocol.stream.WindowGrowth;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * The agent-facing WebSocket endpoint ({@code ingress.tunnel.*}).
 *
 * @param port tunnel listener port; 0 picks a free one (see {@code TunnelServer#port()})
 * @param path WebSocket path agents dial
 * @param helloTimeout how long a new connection may take to send its hello (else close 4003)
 * @param heartbeatInterval ping interval; also sent to agents in the accept frame
 * @param heartbeatMissedLimit silent intervals after which a tunnel is declared dead (close 4002)
 * @param initialStreamWindow per-stream flow-control window, both directions, in bytes
 * @param maxStreamWindow how far the window of a stream the ingress receives (a response body) may
 *     grow while the window, not the client, limits it, in bytes; at most {@code
 *     initial-stream-window} turns growth off
 * @param windowGrowthBudget how much all streams of one tunnel together may grow their windows by:
 *     the most growth adds to what one tunnel buffers
 * @param maxConcurrentStreams open streams per tunnel
 * @param maxFrameBytes largest tunnel frame, header included
 * @param maxQueuedBytes outbound bytes queued per tunnel before it is cut as a slow consumer; above
 *     a quarter of it, streams stop sending until the queue drained (paced to the link)
 * @param maxRoutesPerAgent route claims accepted in one hello
 * @param drainTimeout on shutdown, how long in-flight streams may take to finish after Drain
 * @param address the address the tunnel listener binds to, e.g. {@code 127.0.0.1} or a private
 *     interface; unset: every interface
 * @param closeBackstop after a close frame, how long the ingress waits for the flush and the agent's
 *     answer before dropping the connection
 */
@Validated
@ConfigurationProperties("ingress.tunnel")
public record TunnelProperties(
        @DefaultValue("8082") @Min(0) @Max(65535) int port,
        @DefaultValue("/tunnel") @NotNull @Pattern(regexp = "/.*") String path,
        @DefaultValue("5s") @NotNull Duration helloTimeout,
        @DefaultValue("20s") @NotNull Duration heartbeatInterval,
        @DefaultValue("3") @Min(1) int heartbeatMissedLimit,
        @DefaultValue("262144") @Min(1024) int initialStreamWindow,
        @DefaultValue("4194304") @Min(1024) @Max(1073741824) int maxStreamWindow,
        @DefaultValue("16MB") @NotNull DataSize windowGrowthBudget,
        @DefaultValue("512") @Min(1) int maxConcurrentStreams,
        @DefaultValue("262144") @Min(4096) @Max(16777216) int maxFrameBytes,
        @DefaultValue("16MB") @NotNull DataSize maxQueuedBytes,
        @DefaultValue("256") @Min(1) @Max(65535) int maxRoutesPerAgent,
        @DefaultValue("20s") @NotNull Duration drainTimeout,
        String address,
        @DefaultValue("5s") @NotNull Duration closeBackstop) {

    public TunnelProperties {
        address = address == null || address.isBlank() ? null : address.trim();
        if (heartbeatInterval != null && (heartbeatInterval.isZero() || heartbeatInterval.isNegative())) {
            throw new IllegalArgumentException(
                    "ingress.tunnel.heartbeat-interval: " + heartbeatInterval + " (expected: > 0)");
        }
        if (helloTimeout != null && (helloTimeout.isZero() || helloTimeout.isNegative())) {
            throw new IllegalArgumentException("ingress.tunnel.hello-timeout: " + helloTimeout + " (expected: > 0)");
        }
        if (drainTimeout != null && drainTimeout.isNegative()) {
            throw new IllegalArgumentException("ingress.tunnel.drain-timeout: " + drainTimeout + " (expected: >= 0)");
        }
        if (closeBackstop != null && closeBackstop.isNegative()) {
            throw new IllegalArgumentException("ingress.tunnel.close-backstop: " + closeBackstop + " (expected: >= 0)");
        }
        if (windowGrowthBudget != null && windowGrowthBudget.isNegative()) {
            throw new IllegalArgumentException(
                    "ingress.tunnel.window-growth-budget: " + windowGrowthBudget + " (expected: >= 0)");
        }
        if (maxQueuedBytes != null && maxQueuedBytes.toBytes() <= 0) {
            throw new IllegalArgumentException("ingress.tunnel.max-queued-bytes: " + maxQueuedBytes + " (expected: > 0)");
        }
    }

    /** A fresh growth budget for one tunnel's receiving streams. */
    public WindowGrowth newWindowGrowth() {
        if (maxStreamWindow <= initialStreamWindow) {
            return WindowGrowth.NONE;
        }
        return new WindowGrowth(maxStreamWindow, windowGrowthBudget.toBytes());
    }
}
