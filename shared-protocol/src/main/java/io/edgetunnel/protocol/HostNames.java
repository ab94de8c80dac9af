package io.edgetunnel.protocol;

import java.util.Locale;

/** Host name normalisation and validation shared by both sides, so they agree on what a route is. */
public final class HostNames {

    private static final int MAX_HOST_LENGTH = 253;

    /** {@code [} + 45 characters (the longest IPv4-mapped form) + {@code ]}. */
    private static final int MAX_IPV6_LITERAL_LENGTH = 47;

    private HostNames() {}

    /**
     * Lower case, port and trailing dot stripped; IPv6 literals keep their brackets. Returns null when
     * the value is not a usable host.
     */
    public static String normalise(String hostHeader) {
        if (hostHeader == null) {
            return null;
        }
        String host = hostHeader.trim();
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            if (end < 0) {
                return null;
            }
            String rest = host.substring(end + 1);
            if (!rest.isEmpty() && !isPort(rest)) {
                return null;
            }
            String literal = host.substring(0, end + 1).toLowerCase(Locale.ROOT);
            return isIpv6Literal(literal) ? literal : null;
        }
        int colon = host.indexOf(':');
        if (colon >= 0) {
            if (!isPort(host.substring(colon))) {
                return null;
            }
            host = host.substring(0, colon);
        }
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        host = host.toLowerCase(Locale.ROOT);
        return isValidName(host) ? host : null;
    }

    /** An exact host name, or {@code *.} followed by one. */
    public static boolean isValidPattern(String pattern) {
        if (pattern.startsWith("*.")) {
            return isValidName(pattern.substring(2));
        }
        return isValidName(pattern) || isIpv6Literal(pattern);
    }

    /**
     * A bracketed, lower-case IPv6 literal: hex digits, colons and (for an embedded IPv4 address)
     * dots. Not a full address parser; it keeps garbage such as {@code [a b]} out of routes and hosts.
     */
    private static boolean isIpv6Literal(String bracketed) {
        int length = bracketed.length();
        if (length < 4 || length > MAX_IPV6_LITERAL_LENGTH || bracketed.charAt(0) != '['
                || bracketed.charAt(length - 1) != ']') {
            return false;
        }
        boolean colon = false;
        for (int i = 1; i < length - 1; i++) {
            char c = bracketed.charAt(i);
            if (c == ':') {
                colon = true;
            } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.')) {
                return false;
            }
        }
        return colon;
    }

    private static boolean isPort(String colonAndDigits) {
        if (colonAndDigits.length() < 2 || colonAndDigits.length() > 6 || colonAndDigits.charAt(0) != ':') {
            return false;
        }
        for (int i = 1; i < colonAndDigits.length(); i++) {
            char c = colonAndDigits.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean isValidName(String name) {
        if (name.isEmpty() || name.length() > MAX_HOST_LENGTH) {
            return false;
        }
        int labelLength = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.') {
                if (labelLength == 0) {
                    return false;
                }
                labelLength = 0;
            } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
                if (++labelLength > 63) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return labelLength > 0;
    }
}
