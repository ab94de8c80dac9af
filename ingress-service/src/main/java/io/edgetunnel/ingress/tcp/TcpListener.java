package io.edgetunnel.ingress.tcp;

import io.edgetunnel.protocol.TcpRoutes;
import java.time.Duration;
import org.springframework.boot.context.properties.bind.ConstructorBinding;

/**
 * One public TCP listener ({@code ingress.tcp.listeners[i]}): connections accepted on {@code port} go
 * to the agents claiming the TCP route {@code name}.
 *
 * @param name the TCP route name agents claim ({@code agent.tcp-routes})
 * @param port the listener's port; 0 picks a free one (tests)
 * @param idleTimeout time without a byte either way that ends a connection (reset); unset uses {@code
 *     ingress.tcp.idle-timeout}; 0 never
 */
public record TcpListener(String name, int port, Duration idleTimeout) {

    @ConstructorBinding
    public TcpListener {
        name = TcpRoutes.checkName(name);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("tcp listener " + name + ": port " + port + " (expected: 0..65535)");
        }
        if (idleTimeout != null && idleTimeout.isNegative()) {
            throw new IllegalArgumentException(
                    "tcp listener " + name + ": idle-timeout " + idleTimeout + " (expected: >= 0, 0 is off)");
        }
    }

    public TcpListener(String name, int port) {
        this(name, port, null);
    }

    @Override
    public String toString() {
        return name + "=" + port;
    }
}
