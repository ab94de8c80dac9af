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
        // joined as they come, not collected in lists first: most requests carry none of them (issue 18)
        String forwardedFor = null;
        String forwardedProto = null;
        String forwardedPort = null;
        String requestId = null;
        for (Header header : HopByHopHeaders.strip(received)) {
            String name = header.name();
            if ((!peerTrusted && isForwarding(name)) || isClientOnly(name)) {
                continue;
            }
            if (name.equalsIgnoreCase(X_FORWARDED_FOR)) {
                forwardedFor = joined(forwardedFor, header.value().trim());
            } else if (name.equalsIgnoreCase(X_FORWARDED_PROTO)) {
                forwardedProto = joined(forwardedProto, header.value().trim());
            } else if (name.equalsIgnoreCase(X_FORWARDED_PORT)) {
                forwardedPort = joined(forwardedPort, header.value().trim());
            } else if (name.equalsIgnoreCase(X_REQUEST_ID)) {
                if (requestId == null && !header.value().isBlank()) {
                    requestId = header.value().trim();
                }
            } else {
                headers.add(header);
            }
        }
        // X-Forwarded-Host and Forwarded are client-only (skipped above): this hop's value alone
        addIfAny(headers, X_FORWARDED_FOR, clientAddress != null ? joined(forwardedFor, clientAddress) : forwardedFor);
        addIfAny(headers, X_FORWARDED_PROTO, joined(forwardedProto, scheme));
        addIfAny(headers, X_FORWARDED_HOST, host != null && !host.isBlank() ? host.trim() : null);
        addIfAny(headers, X_FORWARDED_PORT, joined(forwardedPort, Integer.toString(port)));
        addIfAny(headers, FORWARDED, forwardedElement(clientAddress, scheme, host));
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

    /** {@code values} then {@code value}, comma-separated; empty values are left out. */
    private static String joined(String values, String value) {
        if (value.isEmpty()) {
            return values;
        }
        return values == null ? value : values + ", " + value;
    }

    private static void addIfAny(List<Header> headers, String name, String value) {
        if (value != null && !value.isEmpty()) {
            headers.add(new Header(name, value));
        }
    }
}
