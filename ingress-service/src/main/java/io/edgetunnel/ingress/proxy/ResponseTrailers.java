package io.edgetunnel.ingress.proxy;

import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The agent's response trailers as the public response's trailer section: an HTTP/2 trailing
 * HEADERS frame (where gRPC carries its status), or the trailer of an HTTP/1.1 chunked body.
 * Hop-by-hop fields, pseudo-headers and the fields RFC 9110 section 6.5.1 forbids in trailers
 * (framing, routing, caching, content description) are dropped, as Reactor Netty would refuse them.
 */
final class ResponseTrailers {

    private static final Set<String> FORBIDDEN = Set.of(
            "age", "authorization", "cache-control", "content-encoding", "content-length", "content-range",
            "content-type", "date", "expires", "host", "location", "retry-after", "set-cookie", "trailer",
            "transfer-encoding", "vary", "warning");

    private ResponseTrailers() {}

    /** Adds {@code trailers} to {@code out}, minus the fields that may not appear in a trailer. */
    static void copy(List<Header> trailers, HttpHeaders out) {
        for (Header header : HopByHopHeaders.strip(trailers)) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (name.startsWith(":") || FORBIDDEN.contains(name)) {
                continue;
            }
            out.add(header.name(), header.value());
        }
    }
}
