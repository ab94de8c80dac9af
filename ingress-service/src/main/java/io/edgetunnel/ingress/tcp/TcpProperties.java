package io.edgetunnel.ingress.tcp;

import jakarta.validation.Valid;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * TCP routes on the ingress ({@code ingress.tcp.*}); see docs/tcp.md.
 *
 * @param listeners public TCP listeners, one per TCP route; also bindable from one string {@code
 *     name=port,...} (env {@code INGRESS_TCP_LISTENERS}, e.g. {@code ssh=2222,redis=6380})
 * @param address the address the TCP listeners bind to; unset: every interface
 * @param idleTimeout time without a byte either way that ends a TCP connection (both sockets reset),
 *     unless its listener sets its own; 0 (the default) never: long-lived connections live as long as
 *     their peers, TCP keepalive detecting dead ones
 * @param proxyProtocol expect a PROXY protocol header (v1 or v2; an NLB target group's "proxy protocol
 *     v2") first on every accepted connection, and take the client's address from it; a connection
 *     without one, or with a malformed one, is reset. Turn on only behind a load balancer that sends
 *     it: anyone else could claim any address
 */
@Validated
@ConfigurationProperties("ingress.tcp")
public record TcpProperties(
        @DefaultValue List<@Valid TcpListener> listeners,
        String address,
        @DefaultValue("0s") Duration idleTimeout,
        @DefaultValue("false") boolean proxyProtocol) {

    public TcpProperties {
        listeners = listeners == null ? List.of() : List.copyOf(listeners);
        idleTimeout = idleTimeout == null ? Duration.ZERO : idleTimeout;
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("ingress.tcp.idle-timeout: " + idleTimeout + " (expected: >= 0, 0 is off)");
        }
        Set<String> names = new HashSet<>();
        Set<Integer> ports = new HashSet<>();
        for (TcpListener listener : listeners) {
            if (!names.add(listener.name())) {
                throw new IllegalArgumentException(
                        "ingress.tcp.listeners: " + listener.name() + " twice (expected: one listener per route)");
            }
            if (listener.port() != 0 && !ports.add(listener.port())) {
                throw new IllegalArgumentException(
                        "ingress.tcp.listeners: port " + listener.port() + " twice (expected: one route per port)");
            }
        }
    }

    /** The idle timeout of {@code listener}'s connections. */
    Duration idleTimeoutOf(TcpListener listener) {
        return listener.idleTimeout() != null ? listener.idleTimeout() : idleTimeout;
    }
}
