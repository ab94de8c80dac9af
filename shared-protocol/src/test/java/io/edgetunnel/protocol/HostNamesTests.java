package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class HostNamesTests {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "example.com          | example.com",
                "Example.COM          | example.com",
                "example.com:8080     | example.com",
                "example.com:1        | example.com",
                "example.com.         | example.com",
                "Example.COM.:443     | example.com",
                "'  app.example.com ' | app.example.com",
                "my_host-1.internal   | my_host-1.internal",
                "localhost            | localhost",
                "10.0.0.1:80          | 10.0.0.1",
                "[::1]                | [::1]",
                "[::1]:8443           | [::1]",
                "[2001:DB8::A]        | [2001:db8::a]",
                "[::ffff:192.0.2.1]   | [::ffff:192.0.2.1]",
            })
    void normalisesCasePortAndTrailingDot(String hostHeader, String expected) {
        assertThat(HostNames.normalise(hostHeader)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "[{0}]")
    @NullAndEmptySource
    @ValueSource(
            strings = {
                " ",
                ".",
                "example..com",
                ".example.com",
                "example.com..",
                "example.com:",
                "example.com:http",
                "example.com:123456",
                "example.com:\u0663\u0664",
                "example.com:80:80",
                "exa mple.com",
                "exämple.com",
                "*.example.com",
                "user@example.com",
                "example.com/path",
                "[::1",
                "[::1]x",
                "[::1]:",
                "[::1]:http",
                "[]",
                "[zzz]",
                "[a b]",
                "[::1]]",
                "[fe80::1%25eth0]",
            })
    void returnsNullForValuesThatAreNotUsableHosts(String hostHeader) {
        assertThat(HostNames.normalise(hostHeader)).isNull();
    }

    @Test
    void acceptsLabelsUpTo63AndNamesUpTo253Characters() {
        String label63 = "a".repeat(63);
        assertThat(HostNames.normalise(label63 + ".com")).isEqualTo(label63 + ".com");
        assertThat(HostNames.normalise("a".repeat(64) + ".com")).isNull();

        String name253 = String.join(".", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61));
        assertThat(name253).hasSize(253);
        assertThat(HostNames.normalise(name253)).isEqualTo(name253);
        assertThat(HostNames.normalise(name253 + "e")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "a", "*.example.com", "*.com", "[::1]", "[2001:db8::1]", "x_y.z-1"})
    void acceptsExactAndWildcardPatterns(String pattern) {
        assertThat(HostNames.isValidPattern(pattern)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "", "*", "*.", "**.example.com", "*example.com", "a.*.example.com", "*.*.example.com", "Example.com",
                "example.com.", "example.com:80", "[]", "[x]", "[a b]", "[::1", "a..b"
            })
    void rejectsMalformedPatterns(String pattern) {
        assertThat(HostNames.isValidPattern(pattern)).isFalse();
    }
}
