package io.edgetunnel.ingress.proxy;

import io.edgetunnel.protocol.Header;
import java.util.List;
import org.springframework.web.server.ServerWebExchange;

/**
 * One request as it goes to an agent or to another replica: its target, the header block to send (the
 * client's minus hop-by-hop fields, plus this hop's forwarding headers) and what kind of body follows.
 *
 * @param host the normalised host routing used
 * @param rawHost the Host header as received
 * @param target path and query, raw
 */
record PublicRequest(
        ServerWebExchange exchange,
        String host,
        String rawHost,
        String method,
        String target,
        List<Header> headers,
        boolean hasBody,
        boolean websocket) {

    AccessRecord access() {
        return ExchangeSupport.access(exchange);
    }
}
