package io.edgetunnel.protocol;

import java.util.Locale;
import java.util.Objects;

/**
 * A route an agent claims: a host pattern (exact, or {@code *.suffix}) and a path prefix ({@code /}
 * for the whole host). Hosts are kept normalised (see {@link HostNames#normalise}).
 */
public record RouteClaim(String host, String pathPrefix) {
    public RouteClaim {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(pathPrefix, "pathPrefix");
        host = host.toLowerCase(Locale.ROOT);
        if (!HostNames.isValidPattern(host)) {
            throw new IllegalArgumentException("host: " + host + " (expected: a host name or *.suffix)");
        }
        if (!pathPrefix.startsWith("/")) {
            throw new IllegalArgumentException("pathPrefix: " + pathPrefix + " (expected: starts with /)");
        }
    }

    public static RouteClaim host(String host) {
        return new RouteClaim(host, "/");
    }

    public boolean isWildcard() {
        return host.startsWith("*.");
    }

    @Override
    public String toString() {
        return "/".equals(pathPrefix) ? host : host + pathPrefix;
    }
}
