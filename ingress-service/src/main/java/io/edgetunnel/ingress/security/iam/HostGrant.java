package io.edgetunnel.ingress.security.iam;

import io.edgetunnel.protocol.RouteClaim;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One route (host and optional path prefix) an ECS Anywhere host may claim, read from its SSM
 * managed-instance tag. Tag values allow letters, digits, spaces and {@code _ . : / = + - @} only
 * (no {@code *}, no comma), so a value is a space-separated list and the wildcard claim {@code
 * *.apps.example.com} is granted as {@code .apps.example.com}, like a cookie domain.
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

    /**
     * Whether this grant names exactly the claim: same host (or the same wildcard) and same path
     * prefix. Not "at or under": a longer prefix takes that part of the host's traffic from every
     * other host serving it, and a wildcard serves hosts other agents may serve, so each needs its
     * own grant.
     */
    public boolean covers(RouteClaim claim) {
        return host.equals(claim.host()) && pathPrefix.equals(claim.pathPrefix());
    }

    @Override
    public String toString() {
        return pathPrefix.equals("/") ? host : host + pathPrefix;
    }
}
