package io.edgetunnel.agent.proxy;

import io.edgetunnel.protocol.Header;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * RFC 9110 §7.6.1: connection-specific headers never cross the tunnel; nor do the {@code x-http2-*}
 * fields Netty adds when it turns an HTTP/2 response into HTTP/1.1 objects (the stream id).
 */
final class HopByHopHeaders {

    private static final Set<String> NAMES = Set.of(
            "connection",
            "keep-alive",
            "proxy-connection",
            "proxy-authenticate",
            "proxy-authorization",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade");

    private static final Set<String> HTTP2_EXTENSIONS = http2Extensions();

    private HopByHopHeaders() {}

    private static Set<String> http2Extensions() {
        Set<String> names = new java.util.HashSet<>();
        for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
            names.add(name.text().toString().toLowerCase(Locale.ROOT));
        }
        return Set.copyOf(names);
    }

    /** The response headers a tunnel should carry, order, case and duplicates kept. */
    static List<Header> filter(HttpHeaders headers) {
        Set<String> connectionOptions = connectionOptions(headers);
        List<Header> out = new ArrayList<>(headers.size());
        var it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> entry = it.next();
            String name = entry.getKey().toString();
            String lower = name.toLowerCase(Locale.ROOT);
            if (!NAMES.contains(lower) && !connectionOptions.contains(lower) && !HTTP2_EXTENSIONS.contains(lower)) {
                out.add(new Header(name, entry.getValue().toString()));
            }
        }
        return out;
    }

    static boolean isHopByHop(String name) {
        return NAMES.contains(name.toLowerCase(Locale.ROOT));
    }

    private static Set<String> connectionOptions(HttpHeaders headers) {
        List<String> values = headers.getAll("connection");
        if (values.isEmpty()) {
            return Set.of();
        }
        Set<String> options = new java.util.HashSet<>();
        for (String value : values) {
            for (String option : value.split(",")) {
                String trimmed = option.trim().toLowerCase(Locale.ROOT);
                if (!trimmed.isEmpty()) {
                    options.add(trimmed);
                }
            }
        }
        return options;
    }
}
