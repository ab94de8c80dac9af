package io.edgetunnel.agent.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.convert.converter.Converter;

/**
 * Parses {@code host[/prefix]=url[;option=value...]}, so {@code AGENT_ROUTES="a.example=http://127.0.0.1:3000,
 * b.example/api=http://127.0.0.1:4000;health-check.path=/healthz"} binds to {@code agent.routes} (Spring
 * splits the comma list and converts each element). Options are the route's health-check settings
 * under their property names, and {@code protocol=h2c} for a local app spoken to as HTTP/2 cleartext
 * (gRPC). Registered as a static bean in {@link AgentConfiguration}.
 */
@ConfigurationPropertiesBinding
public final class RouteStringConverter implements Converter<String, Route> {

    private static final String EXPECTED =
            "host[/path-prefix]=http://host:port[;health-check.path=/path;...][;protocol=h2c]";
    private static final String HEALTH = "health-check.";
    private static final String PROTOCOL = "protocol";

    @Override
    public Route convert(String source) {
        String value = source.trim();
        int equals = value.indexOf('=');
        if (equals <= 0 || equals == value.length() - 1) {
            throw new IllegalArgumentException("route: " + value + " (expected: " + EXPECTED + ")");
        }
        String claim = value.substring(0, equals).trim();
        String[] parts = value.substring(equals + 1).split(";", -1);
        String url = parts[0].trim();
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i].trim();
            int eq = option.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(
                        "route " + claim + ": option '" + option + "' (expected: name=value, e.g. health-check.path=/healthz)");
            }
            options.put(option.substring(0, eq).trim(), option.substring(eq + 1).trim());
        }
        int slash = claim.indexOf('/');
        String host = slash < 0 ? claim : claim.substring(0, slash);
        String prefix = slash < 0 ? "/" : claim.substring(slash);
        LocalProtocol protocol = protocol(claim, options.remove(PROTOCOL));
        return new Route(host, prefix, uri(claim, url), healthCheck(claim, options), protocol);
    }

    private static URI uri(String claim, String url) {
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("route " + claim + ": url " + url + " (expected: " + EXPECTED + ", e.g. "
                    + "http://127.0.0.1:8080, dns://app.svc.local:8080 or dns+srv://_app._tcp.svc.local)", e);
        }
    }

    private static LocalProtocol protocol(String claim, String value) {
        if (value == null || value.equalsIgnoreCase("http1")) {
            return LocalProtocol.HTTP1;
        }
        if (value.equalsIgnoreCase("h2c")) {
            return LocalProtocol.H2C;
        }
        throw new IllegalArgumentException(
                "route " + claim + ": protocol=" + value + " (expected: http1 or h2c)");
    }

    private static HealthCheck healthCheck(String claim, Map<String, String> options) {
        String path = "";
        Duration interval = null;
        Duration timeout = null;
        int failureThreshold = 3;
        int successThreshold = 2;
        for (Map.Entry<String, String> option : options.entrySet()) {
            String name = option.getKey();
            String value = option.getValue();
            try {
                switch (name) {
                    case HEALTH + "path" -> path = value;
                    case HEALTH + "interval" -> interval = DurationStyle.detectAndParse(value);
                    case HEALTH + "timeout" -> timeout = DurationStyle.detectAndParse(value);
                    case HEALTH + "failure-threshold" -> failureThreshold = Integer.parseInt(value);
                    case HEALTH + "success-threshold" -> successThreshold = Integer.parseInt(value);
                    default -> throw new IllegalArgumentException("route " + claim + ": unknown option " + name
                            + " (expected: health-check.path, health-check.interval, health-check.timeout, "
                            + "health-check.failure-threshold, health-check.success-threshold or protocol)");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "route " + claim + ": " + name + "=" + value + " (expected: a whole number)", e);
            }
        }
        return new HealthCheck(path, interval, timeout, failureThreshold, successThreshold);
    }
}
