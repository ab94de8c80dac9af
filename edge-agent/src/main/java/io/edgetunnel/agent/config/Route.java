package io.edgetunnel.agent.config;

import io.edgetunnel.protocol.RouteClaim;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * One route the agent serves: requests for {@code host} (exact or {@code *.suffix}) under {@code
 * pathPrefix} go to {@code localUrl}.
 */
public record Route(String host, @DefaultValue("/") String pathPrefix, URI localUrl) {

    public Route {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: " + host + " (expected: a host name or *.suffix)");
        }
        host = host.trim().toLowerCase(Locale.ROOT);
        pathPrefix = (pathPrefix == null || pathPrefix.isEmpty()) ? "/" : pathPrefix;
        // validates host pattern and prefix the same way the ingress will
        new RouteClaim(host, pathPrefix);
        Objects.requireNonNull(localUrl, "localUrl");
        String scheme = localUrl.getScheme() == null ? "" : localUrl.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || localUrl.getHost() == null) {
            throw new IllegalArgumentException(
                    "localUrl: " + localUrl + " (expected: http://host[:port][/path] or https://...)");
        }
    }

    public RouteClaim claim() {
        return new RouteClaim(host, pathPrefix);
    }

    @Override
    public String toString() {
        return claim() + "=" + localUrl;
    }
}
