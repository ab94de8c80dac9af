package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.config.ProxyProperties.CookieDomains;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Keeps an app's cookies on its own hosts. A {@code Set-Cookie} whose {@code Domain} reaches beyond
 * the route that answered (an app on {@code a.example.com} setting {@code Domain=example.com}) would
 * be sent by browsers to every other tenant below that domain, and lets one tenant fixate another's
 * session. Such a cookie is narrowed (its {@code Domain} removed: a host-only cookie of the request's
 * host) or stripped, as configured. A {@code Domain} is within the route when it is the exact route's
 * host, or, for a wildcard route {@code *.S}, a host strictly below {@code S} that the request host
 * is or is below.
 */
final class SetCookieDomains {

    private SetCookieDomains() {}

    /** {@code headers} with every over-broad cookie narrowed or stripped; the same list when none is. */
    static List<Header> restrict(List<Header> headers, RouteClaim route, String requestHost, CookieDomains mode) {
        List<Header> result = null;
        for (int i = 0; i < headers.size(); i++) {
            Header header = headers.get(i);
            Header kept = header;
            if (header.name().equalsIgnoreCase("Set-Cookie") && !allowed(header.value(), route, requestHost)) {
                kept = mode == CookieDomains.STRIP ? null : new Header(header.name(), withoutDomain(header.value()));
            }
            if (kept != header && result == null) {
                result = new ArrayList<>(headers.subList(0, i));
            }
            if (result != null && kept != null) {
                result.add(kept);
            }
        }
        return result == null ? headers : result;
    }

    private static boolean allowed(String cookie, RouteClaim route, String requestHost) {
        String[] parts = cookie.split(";");
        for (int i = 1; i < parts.length; i++) {
            String attribute = parts[i].trim();
            int eq = attribute.indexOf('=');
            String name = (eq < 0 ? attribute : attribute.substring(0, eq)).trim();
            if (name.equalsIgnoreCase("domain") && !within(domain(eq < 0 ? "" : attribute.substring(eq + 1)), route,
                    requestHost)) {
                return false;
            }
        }
        return true;
    }

    private static String domain(String value) {
        String domain = value.trim().toLowerCase(Locale.ROOT);
        while (domain.startsWith(".")) {
            domain = domain.substring(1);
        }
        return domain;
    }

    private static boolean within(String domain, RouteClaim route, String requestHost) {
        if (domain.isEmpty()) {
            return true; // browsers ignore an empty Domain: a host-only cookie
        }
        if (!route.isWildcard()) {
            return domain.equals(route.host());
        }
        String suffix = route.host().substring(1); // ".example.com"
        boolean belowRoute = domain.endsWith(suffix) && domain.length() > suffix.length();
        boolean coversRequest = requestHost.equals(domain) || requestHost.endsWith("." + domain);
        return belowRoute && coversRequest;
    }

    private static String withoutDomain(String cookie) {
        String[] parts = cookie.split(";");
        StringBuilder out = new StringBuilder(parts[0].trim());
        for (int i = 1; i < parts.length; i++) {
            String attribute = parts[i].trim();
            int eq = attribute.indexOf('=');
            String name = (eq < 0 ? attribute : attribute.substring(0, eq)).trim();
            if (!name.equalsIgnoreCase("domain") && !attribute.isEmpty()) {
                out.append("; ").append(attribute);
            }
        }
        return out.toString();
    }
}
