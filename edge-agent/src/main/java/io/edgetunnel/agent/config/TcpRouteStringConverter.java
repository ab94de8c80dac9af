package io.edgetunnel.agent.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.convert.converter.Converter;

/**
 * Parses {@code name=host:port[;health-check.interval=5s][;health-check.timeout=2s][;proxy-protocol=v2]}, so {@code
 * AGENT_TCP_ROUTES="ssh=127.0.0.1:22,redis=127.0.0.1:6379"} binds to {@code agent.tcp-routes}.
 */
@ConfigurationPropertiesBinding
public final class TcpRouteStringConverter implements Converter<String, TcpRoute> {

    private static final String EXPECTED =
            "name=host:port[;health-check.interval=5s][;health-check.timeout=2s][;proxy-protocol=v1|v2]";

    @Override
    public TcpRoute convert(String source) {
        String value = source.trim();
        int equals = value.indexOf('=');
        if (equals <= 0 || equals == value.length() - 1) {
            throw new IllegalArgumentException("tcp route: " + value + " (expected: " + EXPECTED + ")");
        }
        String name = value.substring(0, equals).trim();
        String[] parts = value.substring(equals + 1).split(";", -1);
        Duration interval = null;
        Duration timeout = null;
        String proxyProtocol = "";
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i].trim();
            int eq = option.indexOf('=');
            String key = eq <= 0 ? option : option.substring(0, eq).trim();
            String setting = eq <= 0 ? "" : option.substring(eq + 1).trim();
            switch (key) {
                case "health-check.interval" -> interval = DurationStyle.detectAndParse(setting);
                case "health-check.timeout" -> timeout = DurationStyle.detectAndParse(setting);
                case "proxy-protocol" -> proxyProtocol = setting;
                default -> throw new IllegalArgumentException("tcp route " + name + ": option '" + option
                        + "' (expected: health-check.interval=..., health-check.timeout=... or proxy-protocol=v1|v2)");
            }
        }
        return new TcpRoute(name, parts[0].trim(), interval, timeout, proxyProtocol);
    }
}
