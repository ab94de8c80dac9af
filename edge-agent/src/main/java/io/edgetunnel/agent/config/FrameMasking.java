package io.edgetunnel.agent.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * The masking key of the WebSocket frames the agent sends ({@code agent.frame-masking}).
 *
 * <p>RFC 6455 makes a client mask every frame with an unpredictable key so that script-chosen bytes
 * cannot be read as HTTP by a transparent proxy that does not understand WebSocket (cache
 * poisoning). Masking with a random key means XOR-ing and copying every byte the agent sends: in the
 * download benchmark it was most of the agent's CPU. With the all-zero key the frames are still
 * masked frames on the wire, and neither the tunnel's encoder nor Netty's decoder XORs or copies. That is safe
 * where no intermediary can read the bytes: over {@code wss://} (TLS to the ALB or the ingress) and
 * to a loopback ingress.
 */
public enum FrameMasking {
    /** Zero key over {@code wss://} or to a loopback host; a random key otherwise. */
    AUTO,
    /** A fresh random key per frame, as a browser would. */
    RANDOM,
    /** The all-zero key, whatever the path to the ingress. */
    ZERO;

    /** Whether frames to {@code ingress} go out with the all-zero key. */
    public boolean zeroKeyFor(URI ingress) {
        return switch (this) {
            case RANDOM -> false;
            case ZERO -> true;
            case AUTO -> "wss".equals(ingress.getScheme().toLowerCase(Locale.ROOT)) || isLoopback(ingress.getHost());
        };
    }

    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!literal.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            return false; // a name: no lookup at start, it could resolve differently later
        }
        try {
            return InetAddress.getByName(literal).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
