package io.edgetunnel.ingress.proxy;

import io.edgetunnel.protocol.Header;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ServerWebExchange;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/** Reaching through WebFlux's exchange to Reactor Netty, where the proxy needs the real connection. */
final class ExchangeSupport {

    private ExchangeSupport() {}

    /**
     * Closes the client connection of a response whose headers are out. Propagating the error is not
     * enough: WebFlux swallows errors whose message looks like a client disconnect ("connection reset",
     * "broken pipe"), which a lost tunnel's reason can be, and the client would then wait forever for
     * the rest of a Content-Length body.
     */
    static void abortConnection(ServerHttpResponse response) {
        Object nativeResponse;
        try {
            nativeResponse = ServerHttpResponseDecorator.getNativeResponse(response);
        } catch (IllegalArgumentException e) {
            return; // not a native-backed response (tests with mocks)
        }
        if (nativeResponse instanceof Connection connection) {
            connection.channel().close();
        }
    }

    static HttpServerResponse nativeResponse(ServerHttpResponse response) {
        try {
            return ServerHttpResponseDecorator.getNativeResponse(response) instanceof HttpServerResponse netty
                    ? netty : null;
        } catch (IllegalArgumentException e) {
            return null; // not a native-backed response (tests with mocks)
        }
    }

    static AccessRecord access(ServerWebExchange exchange) {
        AccessRecord access = exchange.getAttribute(AccessRecord.ATTRIBUTE);
        return access != null ? access : new AccessRecord();
    }

    /** Header fields in arrival order, with case and duplicates, straight from Reactor Netty when possible. */
    static List<Header> receivedHeaders(ServerHttpRequest request) {
        List<Header> headers = new ArrayList<>();
        Object nativeRequest = null;
        try {
            nativeRequest = ServerHttpRequestDecorator.getNativeRequest(request);
        } catch (IllegalArgumentException e) {
            // not a native-backed request (tests with mocks)
        }
        if (nativeRequest instanceof HttpServerRequest netty) {
            for (Map.Entry<String, String> header : netty.requestHeaders()) {
                headers.add(new Header(header.getKey(), header.getValue()));
            }
            return headers;
        }
        request.getHeaders().forEach((name, values) -> values.forEach(value -> headers.add(new Header(name, value))));
        return headers;
    }
}
