package io.edgetunnel.agent.config;

import java.net.URI;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.core.convert.converter.Converter;

/**
 * Parses {@code host[/prefix]=url}, so {@code AGENT_ROUTES="a.example=http://127.0.0.1:3000,
 * b.example/api=http://127.0.0.1:4000"} binds to {@code agent.routes} (Spring splits the comma list
 * and converts each element). Registered as a static bean in {@link AgentConfiguration}.
 */
@ConfigurationPropertiesBinding
public final class RouteStringConverter implements Converter<String, Route> {

    @Override
    public Route convert(String source) {
        String value = source.trim();
        int equals = value.indexOf('=');
        if (equals <= 0 || equals == value.length() - 1) {
            throw new IllegalArgumentException(
                    "route: " + value + " (expected: host[/path-prefix]=http://host:port)");
        }
        String claim = value.substring(0, equals).trim();
        String url = value.substring(equals + 1).trim();
        int slash = claim.indexOf('/');
        String host = slash < 0 ? claim : claim.substring(0, slash);
        String prefix = slash < 0 ? "/" : claim.substring(slash);
        return new Route(host, prefix, URI.create(url));
    }
}
