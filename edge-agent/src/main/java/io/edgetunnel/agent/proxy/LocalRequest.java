package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.protocol.Header;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Objects;
import org.reactivestreams.Publisher;

/**
 * A tunneled request to send to a route's local app.
 *
 * @param target origin-form request target ({@code /path?query}) as the client sent it
 * @param headers as received, order, case and duplicates kept
 * @param body request body, or null when the request has none; the subscriber releases each buffer
 */
public record LocalRequest(Route route, String method, String target, List<Header> headers, Publisher<ByteBuf> body) {
    public LocalRequest {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(target, "target");
        headers = List.copyOf(headers);
    }
}
