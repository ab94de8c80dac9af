package io.edgetunnel.protocol;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * TCP routes on the wire (spec section 20). A TCP route named {@code ssh} is claimed in HELLO as the
 * host {@code ssh._tcp} with path prefix {@code /}: a valid host pattern, so an ingress that predates
 * TCP routes accepts the hello and never sees a public HTTP request for it (an underscore label is
 * not a host a browser sends), and host policy governs it like any host ({@code *._tcp} matches every
 * TCP route). A connection is a stream whose REQUEST has the method {@code CONNECT} and the route
 * name as its target.
 */
public final class TcpRoutes {

    /** The label that marks a claimed host as a TCP route name. */
    public static final String SUFFIX = "._tcp";

    /** The REQUEST method of a TCP connection stream. */
    public static final String METHOD = "CONNECT";

    /** REQUEST header: the public client's address as {@code ip:port} (after PROXY protocol, if any). */
    public static final String SOURCE_HEADER = "x-tcp-source";

    /** REQUEST header: the address the public client connected to, {@code ip:port}. */
    public static final String DESTINATION_HEADER = "x-tcp-destination";

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    private TcpRoutes() {
    }

    /** Lower-cases and checks a route name: one host-name label, 1..63 of {@code a-z 0-9 - _}. */
    public static String checkName(String name) {
        String normalised = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (!NAME.matcher(normalised).matches()) {
            throw new IllegalArgumentException("tcp route name: " + name
                    + " (expected: 1..63 characters of a-z 0-9 - _, starting with a letter or digit)");
        }
        return normalised;
    }

    /** The claim of the TCP route {@code name}. */
    public static RouteClaim claim(String name) {
        return new RouteClaim(checkName(name) + SUFFIX, "/");
    }

    /** Whether a claimed host names a TCP route. */
    public static boolean isTcp(String host) {
        return host.endsWith(SUFFIX) && NAME.matcher(host.substring(0, host.length() - SUFFIX.length())).matches();
    }

    /** The route name of a TCP claim's host ({@code ssh._tcp} → {@code ssh}). */
    public static String nameOf(String host) {
        if (!isTcp(host)) {
            throw new IllegalArgumentException("host: " + host + " (expected: name" + SUFFIX + ")");
        }
        return host.substring(0, host.length() - SUFFIX.length());
    }
}
