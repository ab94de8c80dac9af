package io.edgetunnel.protocol;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1): meaningful for one connection only, so never carried
 * through the tunnel, either way, at either end. One list for the ingress and the agent, so the two
 * cannot drift apart.
 *
 * <p>{@code TE: trailers} survives {@link #strip}, as HTTP/2 and gRPC rely on it. The {@code x-http2-*}
 * fields Netty adds when it turns an HTTP/2 message into HTTP/1.1 objects (stream id, scheme) describe
 * one connection too, and a peer must not be able to fake them. Nor may anyone but the ingress send the
 * ingress cluster's own fields ({@code X-Edge-Cluster-*}): its forwarding signature and its answers.
 */
public final class HopByHopHeaders {

    private static final Set<String> ALWAYS = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "proxy-authorization", "proxy-authenticate", "http2-settings",
            // the replica-to-replica signature: checked and removed on the cluster port, never passed on
            "x-edge-cluster-hop",
            // the cluster's own answers: only the ingress may say "no holder here" or "refused", never an app
            "x-edge-cluster-holder", "x-edge-cluster-refused");

    /** Netty's {@code HttpConversionUtil.ExtensionHeaderNames}, lower case (a test keeps them in step). */
    static final Set<String> HTTP2_EXTENSIONS = Set.of(
            "x-http2-stream-id", "x-http2-scheme", "x-http2-path", "x-http2-stream-promise-id",
            "x-http2-stream-dependency-id", "x-http2-stream-weight");

    /**
     * Never removed because a {@code Connection} header names them: a client writing {@code
     * Connection: X-Forwarded-For} must not erase what the load balancer (or the replica that
     * forwarded the request) wrote about it.
     */
    private static final Set<String> NOT_NOMINABLE = Set.of(
            "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded",
            "x-request-id");

    private HopByHopHeaders() {}

    /**
     * {@link #ALWAYS} and {@link #HTTP2_EXTENSIONS} by length, so a name is compared with the few of its
     * length only, without a lower-case copy of it per header and request.
     */
    private static final String[][] BY_LENGTH = byLength();

    private static String[][] byLength() {
        List<String> all = new ArrayList<>(ALWAYS);
        all.addAll(HTTP2_EXTENSIONS);
        int max = all.stream().mapToInt(String::length).max().orElse(0);
        String[][] table = new String[max + 1][0];
        for (String name : all) {
            String[] same = table[name.length()];
            String[] grown = Arrays.copyOf(same, same.length + 1);
            grown[same.length] = name;
            table[name.length()] = grown;
        }
        return table;
    }

    /**
     * Whether a field of this name is hop-by-hop whatever the message says ({@code TE} included; a
     * {@code Connection} header may name more: see {@link #strip}).
     */
    public static boolean isHopByHop(String name) {
        if (!isAscii(name)) {
            // Locale.ROOT folds some non-ASCII letters into ASCII ones: the original rule decides
            String lower = name.toLowerCase(Locale.ROOT);
            return ALWAYS.contains(lower) || lower.startsWith("proxy-") || HTTP2_EXTENSIONS.contains(lower);
        }
        if (name.length() >= 6 && name.regionMatches(true, 0, "proxy-", 0, 6)) {
            return true;
        }
        if (name.length() < BY_LENGTH.length) {
            for (String candidate : BY_LENGTH[name.length()]) {
                if (asciiEqualsLower(name, candidate)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code headers} without hop-by-hop fields (those named by a {@code Connection} header too), order,
     * case and duplicates otherwise kept; {@code TE} stays as {@code trailers} when it offered them.
     */
    public static List<Header> strip(List<Header> headers) {
        List<String> named = null;
        for (int i = 0; i < headers.size(); i++) {
            Header header = headers.get(i);
            if (header.name().equalsIgnoreCase("connection")) {
                named = addNamed(header.value(), named);
            }
        }
        List<Header> result = new ArrayList<>(headers.size());
        for (Header header : headers) {
            String name = header.name();
            if (isTe(name)) {
                if (containsTrailers(header.value())) {
                    result.add(new Header(header.name(), "trailers"));
                }
                continue;
            }
            if (isHopByHop(name) || (named != null && isNamed(name, named))) {
                continue;
            }
            result.add(header);
        }
        return result;
    }

    private static boolean isTe(String name) {
        return isAscii(name) ? asciiEqualsLower(name, "te") : name.toLowerCase(Locale.ROOT).equals("te");
    }

    /**
     * {@code named} (null: none yet) with the fields a {@code Connection} header's {@code value} lists,
     * lower case; those hop-by-hop anyway (keep-alive, close's neighbours) need no entry.
     */
    private static List<String> addNamed(String value, List<String> named) {
        int start = 0;
        while (start <= value.length()) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? value.length() : comma;
            String name = value.substring(start, end).trim().toLowerCase(Locale.ROOT);
            if (!name.isEmpty() && !NOT_NOMINABLE.contains(name) && !isHopByHop(name)) {
                if (named == null) {
                    named = new ArrayList<>(2);
                }
                named.add(name);
            }
            start = end + 1;
        }
        return named;
    }

    /** Whether the Connection header named this field ({@code named} holds lower-case names). */
    private static boolean isNamed(String name, List<String> named) {
        if (!isAscii(name)) {
            return named.contains(name.toLowerCase(Locale.ROOT));
        }
        for (int i = 0; i < named.size(); i++) {
            if (asciiEqualsLower(name, named.get(i))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether ASCII {@code name}, lower-cased, equals {@code lower}: the same answer as {@code
     * name.toLowerCase(Locale.ROOT).equals(lower)}, as ASCII lower-cases to ASCII and to nothing else.
     */
    private static boolean asciiEqualsLower(String name, String lower) {
        if (name.length() != lower.length()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                c = (char) (c + ('a' - 'A'));
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** {@link #strip(List)} of Netty's headers (as a local app's response arrives). */
    public static List<Header> strip(HttpHeaders headers) {
        List<Header> all = new ArrayList<>(headers.size());
        var it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> entry = it.next();
            CharSequence key = entry.getKey();
            String name = CommonHeaderNames.lookup(key);
            all.add(new Header(name != null ? name : key.toString(), entry.getValue().toString()));
        }
        return strip(all);
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
