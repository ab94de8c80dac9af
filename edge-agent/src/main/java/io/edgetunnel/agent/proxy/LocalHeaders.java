package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import reactor.netty.http.client.HttpClientRequest;

/** The header blocks of a local exchange: the request as the app sees it, the response as the route rewrites it. */
final class LocalHeaders {

    private LocalHeaders() {}

    /**
     * The client's headers replace Reactor Netty's defaults (user-agent, accept), so the app sees what
     * the client sent; body framing is then re-derived: the client's Content-Length, else chunked.
     */
    static void copyRequestHeaders(List<Header> headers, HttpClientRequest req, boolean hasBody, Route route) {
        copyRequestHeaders(headers, req.requestHeaders(), hasBody, route);
    }

    /** The same into {@code out}, whose Host (the local app's address) is kept when the client sent none. */
    static void copyRequestHeaders(List<Header> headers, HttpHeaders out, boolean hasBody, Route route) {
        String defaultHost = out.get(HttpHeaderNames.HOST);
        out.clear();
        for (Header header : headers) {
            // the ingress already answered any 100-continue; the app must not wait for one
            if (!HopByHopHeaders.isHopByHop(header.name()) && !"expect".equalsIgnoreCase(header.name())) {
                out.add(header.name(), header.value());
            } else if (isTeTrailers(header)) {
                // the one hop-by-hop field to pass on: the client takes trailers (gRPC servers expect it)
                out.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
            }
        }
        for (String name : route.removeRequestHeaders()) {
            out.remove(name);
        }
        route.requestHeaders().forEach(out::set);
        if (!route.hostRewrite().isEmpty()) {
            out.set(HttpHeaderNames.HOST, route.hostRewrite());
        }
        if (!out.contains(HttpHeaderNames.HOST) && defaultHost != null) {
            out.set(HttpHeaderNames.HOST, defaultHost);
        }
        if (hasBody && !out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            out.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
    }

    /** The ingress forwards {@code TE} only as exactly {@code trailers}. */
    private static boolean isTeTrailers(Header header) {
        return "te".equalsIgnoreCase(header.name()) && "trailers".equalsIgnoreCase(header.value().trim());
    }

    static List<Header> rewriteResponseHeaders(List<Header> headers, Route route) {
        if (route.removeResponseHeaders().isEmpty() && route.responseHeaders().isEmpty()) {
            return headers;
        }
        List<Header> out = new ArrayList<>(headers.size() + route.responseHeaders().size());
        for (Header header : headers) {
            if (!containsIgnoreCase(route.removeResponseHeaders(), header.name())
                    && !containsIgnoreCase(route.responseHeaders().keySet(), header.name())) {
                out.add(header);
            }
        }
        route.responseHeaders().forEach((name, value) -> out.add(new Header(name, value)));
        return out;
    }

    private static boolean containsIgnoreCase(Collection<String> names, String name) {
        for (String candidate : names) {
            if (candidate.equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    static long declaredLength(List<Header> headers) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase("content-length")) {
                try {
                    return Long.parseLong(header.value().trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
