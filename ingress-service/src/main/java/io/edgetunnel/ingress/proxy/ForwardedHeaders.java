package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.tunnel.Ids;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import java.util.ArrayList;
import java.util.List;

/**
 * The request header block sent to the agent: the client's headers minus hop-by-hop ones, then
 * {@code X-Forwarded-For/Proto/Host/Port} and RFC 7239 {@code Forwarded}, and an {@code
 * X-Request-Id}, kept when present. Host passes through unchanged.
 *
 * <p>From a trusted peer ({@code ingress.proxy.trusted-proxies}, the ALB) this hop is appended to
 * what the peer sets itself ({@code X-Forwarded-For}, {@code -Proto}, {@code -Port}); from any other
 * peer the forwarding headers it sent are dropped and replaced by this hop alone, so a spoofed
 * {@code X-Forwarded-For} never reaches the local app. {@code X-Forwarded-Host} and {@code Forwarded}
 * are dropped whoever sent them: the ALB passes a client's values through untouched, so they are
 * the client's claims, and an app that builds links or checks origins from them would trust them.
 */
final class ForwardedHeaders {

    static final String X_FORWARDED_FOR = "X-Forwarded-For";
    static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";
    static final String X_FORWARDED_HOST = "X-Forwarded-Host";
    static final String X_FORWARDED_PORT = "X-Forwarded-Port";
    static final String X_REQUEST_ID = "X-Request-Id";
    static final String FORWARDED = "Forwarded";

    private ForwardedHeaders() {}

    /**
     * @param clientAddress the peer's address (the ALB behind the load balancer), or null if unknown
     * @param scheme the scheme of this hop ({@code http})
     * @param host the Host header as received, or null
     * @param port the local port the request arrived on
     */
    static List<Header> forRequest(List<Header> received, String clientAddress, String scheme, String host, int port) {
        return forRequest(received, clientAddress, true, scheme, host, port);
    }

    /**
     * @param peerTrusted whether the peer may tell us about earlier hops; when false its forwarding
     *     headers are replaced rather than appended to
     */
    static List<Header> forRequest(
            List<Header> received, String clientAddress, boolean peerTrusted, String scheme, String host, int port) {
        List<Header> headers = new ArrayList<>(received.size() + 5);
        List<String> forwardedFor = new ArrayList<>();
        List<String> forwardedProto = new ArrayList<>();
        List<String> forwardedHost = new ArrayList<>();
        List<String> forwardedPort = new ArrayList<>();
        List<String> forwarded = new ArrayList<>();
        String requestId = null;
        for (Header header : HopByHopHeaders.strip(received)) {
            String name = header.name();
            if ((!peerTrusted && isForwarding(name)) || isClientOnly(name)) {
                continue;
            }
            if (name.equalsIgnoreCase(FORWARDED)) {
                forwarded.add(header.value().trim());
            } else if (name.equalsIgnoreCase(X_FORWARDED_FOR)) {
                forwardedFor.add(header.value().trim());
            } else if (name.equalsIgnoreCase(X_FORWARDED_PROTO)) {
                forwardedProto.add(header.value().trim());
            } else if (name.equalsIgnoreCase(X_FORWARDED_HOST)) {
                forwardedHost.add(header.value().trim());
            } else if (name.equalsIgnoreCase(X_FORWARDED_PORT)) {
                forwardedPort.add(header.value().trim());
            } else if (name.equalsIgnoreCase(X_REQUEST_ID)) {
                if (requestId == null && !header.value().isBlank()) {
                    requestId = header.value().trim();
                }
            } else {
                headers.add(header);
            }
        }
        if (clientAddress != null) {
            forwardedFor.add(clientAddress);
        }
        forwardedProto.add(scheme);
        if (host != null && !host.isBlank()) {
            forwardedHost.add(host.trim());
        }
        forwardedPort.add(Integer.toString(port));
        forwarded.add(forwardedElement(clientAddress, scheme, host));
        addJoined(headers, X_FORWARDED_FOR, forwardedFor);
        addJoined(headers, X_FORWARDED_PROTO, forwardedProto);
        addJoined(headers, X_FORWARDED_HOST, forwardedHost);
        addJoined(headers, X_FORWARDED_PORT, forwardedPort);
        addJoined(headers, FORWARDED, forwarded);
        headers.add(new Header(X_REQUEST_ID, requestId != null ? requestId : Ids.random()));
        return headers;
    }

    /** The agent's response headers minus hop-by-hop ones. */
    static List<Header> forResponse(List<Header> received) {
        return HopByHopHeaders.strip(received);
    }

    private static boolean isForwarding(String name) {
        return name.equalsIgnoreCase(X_FORWARDED_FOR) || name.equalsIgnoreCase(X_FORWARDED_PROTO)
                || name.equalsIgnoreCase(X_FORWARDED_HOST) || name.equalsIgnoreCase(X_FORWARDED_PORT)
                || name.equalsIgnoreCase(FORWARDED);
    }

    /** Forwarding headers no load balancer in front of us sets: whatever arrives was a client's. */
    private static boolean isClientOnly(String name) {
        return name.equalsIgnoreCase(X_FORWARDED_HOST) || name.equalsIgnoreCase(FORWARDED);
    }

    /** This hop as an RFC 7239 element: {@code for=...;proto=...;host=...}. */
    static String forwardedElement(String clientAddress, String scheme, String host) {
        StringBuilder element = new StringBuilder("for=");
        if (clientAddress == null) {
            element.append("unknown");
        } else if (clientAddress.indexOf(':') >= 0) {
            element.append("\"[").append(clientAddress).append("]\"");
        } else {
            element.append(clientAddress);
        }
        element.append(";proto=").append(scheme);
        if (host != null && !host.isBlank()) {
            element.append(";host=").append(quotedIfNeeded(host.trim()));
        }
        return element.toString();
    }

    private static String quotedIfNeeded(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_' || c == '~')) {
                return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            }
        }
        return value;
    }

    private static void addJoined(List<Header> headers, String name, List<String> values) {
        values.removeIf(String::isEmpty);
        if (!values.isEmpty()) {
            headers.add(new Header(name, String.join(", ", values)));
        }
    }
}
