package io.edgetunnel.ingress.tcp;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.convert.converter.Converter;

/**
 * Parses {@code name=port[;idle-timeout=2h]}, so {@code INGRESS_TCP_LISTENERS="ssh=2222,redis=6380"}
 * binds to {@code ingress.tcp.listeners}.
 */
@ConfigurationPropertiesBinding
public final class TcpListenerStringConverter implements Converter<String, TcpListener> {

    private static final String EXPECTED = "name=port[;idle-timeout=2h], e.g. ssh=2222";

    @Override
    public TcpListener convert(String source) {
        String value = source.trim();
        int equals = value.indexOf('=');
        if (equals <= 0 || equals == value.length() - 1) {
            throw new IllegalArgumentException("tcp listener: " + value + " (expected: " + EXPECTED + ")");
        }
        String name = value.substring(0, equals).trim();
        String[] parts = value.substring(equals + 1).split(";", -1);
        int port;
        try {
            port = Integer.parseInt(parts[0].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tcp listener " + name + ": port " + parts[0] + " (expected: "
                    + EXPECTED + ")", e);
        }
        Duration idle = null;
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i].trim();
            if (!option.startsWith("idle-timeout=")) {
                throw new IllegalArgumentException(
                        "tcp listener " + name + ": option '" + option + "' (expected: idle-timeout=...)");
            }
            idle = DurationStyle.detectAndParse(option.substring("idle-timeout=".length()).trim());
        }
        return new TcpListener(name, port, idle);
    }
}
