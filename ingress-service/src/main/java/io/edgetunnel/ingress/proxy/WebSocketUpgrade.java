package io.edgetunnel.ingress.proxy;

import io.edgetunnel.protocol.Header;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.reactive.ServerHttpRequest;

/**
 * Recognises a public WebSocket upgrade and shapes the REQUEST it becomes (spec section 19.1): the
 * upgrade marker headers go along, the client's key does not (each hop runs its own handshake).
 */
final class WebSocketUpgrade {

    static final String SEC_WEBSOCKET_PROTOCOL = "Sec-WebSocket-Protocol";

    private WebSocketUpgrade() {}

    /** {@code GET} with {@code Upgrade: websocket}. */
    static boolean requested(ServerHttpRequest request) {
        if (!HttpMethod.GET.equals(request.getMethod())) {
            return false;
        }
        for (String value : request.getHeaders().getValuesAsList(HttpHeaders.UPGRADE)) {
            if (value.trim().equalsIgnoreCase("websocket")) {
                return true;
            }
        }
        return false;
    }

    /** Rejects an upgrade the ingress could not complete itself, before anything reaches an agent. */
    static void check(HttpHeaders headers) {
        String key = headers.getFirst("Sec-WebSocket-Key");
        if (key == null || key.isBlank()) {
            throw ProxyException.badRequest("WebSocket upgrade without Sec-WebSocket-Key");
        }
        String version = headers.getFirst("Sec-WebSocket-Version");
        if (!"13".equals(version == null ? null : version.trim())) {
            throw ProxyException.badRequest("Sec-WebSocket-Version: " + version + " (expected: 13)");
        }
    }

    /** The forwarded headers, without the client's key, with the upgrade marker. */
    static List<Header> requestHeaders(List<Header> forwarded) {
        List<Header> headers = new ArrayList<>(forwarded.size() + 2);
        for (Header header : forwarded) {
            if (!header.name().equalsIgnoreCase("Sec-WebSocket-Key")) {
                headers.add(header);
            }
        }
        headers.add(new Header("Upgrade", "websocket"));
        headers.add(new Header("Connection", "Upgrade"));
        return headers;
    }

    /** Subprotocols the client offered, in its order. */
    static List<String> offeredProtocols(HttpHeaders headers) {
        List<String> offered = new ArrayList<>();
        for (String value : headers.getValuesAsList(SEC_WEBSOCKET_PROTOCOL)) {
            String protocol = value.trim();
            if (!protocol.isEmpty()) {
                offered.add(protocol);
            }
        }
        return offered;
    }
}
