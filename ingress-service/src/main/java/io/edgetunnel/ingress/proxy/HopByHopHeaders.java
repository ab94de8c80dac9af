package io.edgetunnel.ingress.proxy;

import io.edgetunnel.protocol.Header;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1): meaningful for one connection only, so never
 * forwarded either way. {@code TE: trailers} survives, as HTTP/2 and gRPC rely on it. The {@code
 * x-http2-*} fields Netty adds when it turns an HTTP/2 request into HTTP/1.1 objects (stream id,
 * scheme) describe this connection too, and a client must not be able to fake them. Neither may it
 * send the cluster's forwarding signature ({@code X-Edge-Cluster-Hop}): the public port drops it.
 */
final class HopByHopHeaders {

    private static final Set<String> ALWAYS = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "proxy-authorization", "proxy-authenticate", "http2-settings",
            // the replica-to-replica signature: checked and removed on the cluster port, never passed on
            "x-edge-cluster-hop",
            // the cluster's own answers: only the ingress may say "no holder here" or "refused", never an app
            "x-edge-cluster-holder", "x-edge-cluster-refused");

    private static final Set<String> HTTP2_EXTENSIONS = http2Extensions();

    /**
     * Never removed because a {@code Connection} header names them: a client writing {@code
     * Connection: X-Forwarded-For} must not erase what the load balancer (or the replica that
     * forwarded the request) wrote about it.
     */
    private static final Set<String> NOT_NOMINABLE = Set.of(
            "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded",
            "x-request-id");

    private HopByHopHeaders() {}

    /** {@code headers} without hop-by-hop fields, order, case and duplicates otherwise kept. */
    static List<Header> strip(List<Header> headers) {
        Set<String> named = new HashSet<>();
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase("connection")) {
                for (String token : header.value().split(",")) {
                    String name = token.trim().toLowerCase(Locale.ROOT);
                    if (!name.isEmpty() && !NOT_NOMINABLE.contains(name)) {
                        named.add(name);
                    }
                }
            }
        }
        List<Header> result = new ArrayList<>(headers.size());
        for (Header header : headers) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (name.equals("te")) {
                if (containsTrailers(header.value())) {
                    result.add(new Header(header.name(), "trailers"));
                }
                continue;
            }
            if (ALWAYS.contains(name) || name.startsWith("proxy-") || named.contains(name)
                    || HTTP2_EXTENSIONS.contains(name)) {
                continue;
            }
            result.add(header);
        }
        return result;
    }

    private static Set<String> http2Extensions() {
        Set<String> names = new HashSet<>();
        for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
            names.add(name.text().toString().toLowerCase(Locale.ROOT));
        }
        return Set.copyOf(names);
    }

    private static boolean containsTrailers(String value) {
        for (String token : value.split(",")) {
            String coding = token.trim();
            int semicolon = coding.indexOf(';');
            if (semicolon >= 0) {
                coding = coding.substring(0, semicolon).trim();
            }
            if (coding.equalsIgnoreCase("trailers")) {
                return true;
            }
        }
        return false;
    }
}
