package io.edgetunnel.protocol;

import java.util.Objects;

/** One HTTP header field, name case as received; a list of these keeps order and duplicates. */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("name: \"\" (expected: non-empty)");
        }
    }
}
