package io.edgetunnel.ingress.config;

import io.edgetunnel.protocol.HostNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A list of host patterns from configuration: exact hosts or {@code *.suffix} (any host below
 * suffix). Used for per-host opt-ins, so an empty list matches nothing.
 *
 * @param patterns normalised (lower case) patterns
 */
public record HostPatterns(List<String> patterns) {

    public static final HostPatterns NONE = new HostPatterns(List.of());

    public HostPatterns {
        patterns = List.copyOf(patterns);
    }

    /**
     * @param property the property the patterns came from, named in the error
     * @throws IllegalArgumentException for a pattern that is neither a host nor {@code *.suffix}
     */
    public static HostPatterns of(String property, List<String> values) {
        if (values == null) {
            return NONE;
        }
        List<String> patterns = new ArrayList<>();
        for (String value : values) {
            String pattern = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
            if (pattern.isEmpty()) {
                continue;
            }
            if (!HostNames.isValidPattern(pattern)) {
                throw new IllegalArgumentException(property + ": " + value + " (expected: host or *.suffix)");
            }
            patterns.add(pattern);
        }
        return new HostPatterns(patterns);
    }

    /** Whether the normalised {@code host} matches one of the patterns; false for null. */
    public boolean matches(String host) {
        if (host == null) {
            return false;
        }
        for (String pattern : patterns) {
            if (pattern.startsWith("*.") ? host.endsWith(pattern.substring(1)) : host.equals(pattern)) {
                return true;
            }
        }
        return false;
    }
}
