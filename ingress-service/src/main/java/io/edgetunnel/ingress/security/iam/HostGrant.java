package io.edgetunnel.ingress.security.iam;

import io.edgetunnel.protocol.RouteClaim;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One host (and optional path prefix) a container instance may serve, read from its ECS attribute.
 * ECS attribute values allow letters, digits, {@code - _ . @ / \ :} and spaces only (no {@code *},
 * no comma; ECS API reference, {@code Attribute}), so a value is a space-separated list and a
 * wildcard is written with a leading dot: {@code .apps.example.com} grants every host below
 * {@code apps.example.com}, like a cookie domain.
 *
 * @param host an exact host, or {@code *.suffix}
 * @param pathPrefix {@code /} for the whole host, else a prefix the claim must sit under
 */
public record HostGrant(String host, String pathPrefix) {

    private static final Pattern HOST = Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._~!$&'()+,;=:@%/-]*");

    /** {@code app.example.com}, {@code app.example.com/api}, {@code .apps.example.com}; empty if malformed. */
    public static Optional<HostGrant> parse(String token) {
        String value = token.strip().toLowerCase(Locale.ROOT);
        int slash = value.indexOf('/');
        String host = slash < 0 ? value : value.substring(0, slash);
        String path = slash < 0 ? "/" : token.strip().substring(slash);
        if (host.startsWith(".")) {
            host = "*" + host;
        }
        if (host.length() > 253 || !HOST.matcher(host).matches() || !PATH.matcher(path).matches()) {
            return Optional.empty();
        }
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return Optional.of(new HostGrant(host, path));
    }

    /** Whether this grant covers the claim: host exact or below a wildcard, path at or under the prefix. */
    public boolean covers(RouteClaim claim) {
        return coversHost(claim.host()) && underPrefix(claim.pathPrefix());
    }

    private boolean coversHost(String claimed) {
        if (!host.startsWith("*.")) {
            return host.equals(claimed);
        }
        String suffix = host.substring(1);
        String bare = claimed.startsWith("*.") ? claimed.substring(1) : claimed;
        return claimed.startsWith("*.") ? bare.equals(suffix) || bare.endsWith(suffix)
                : claimed.endsWith(suffix) && claimed.length() > suffix.length();
    }

    private boolean underPrefix(String claimed) {
        if (pathPrefix.equals("/")) {
            return true;
        }
        return claimed.equals(pathPrefix) || claimed.startsWith(pathPrefix + "/");
    }

    @Override
    public String toString() {
        return pathPrefix.equals("/") ? host : host + pathPrefix;
    }
}
