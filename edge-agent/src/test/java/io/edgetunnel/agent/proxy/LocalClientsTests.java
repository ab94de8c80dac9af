package io.edgetunnel.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A bound client is given {@link LocalAppForwarder#pathAndQuery} where the unbound one was given
 * {@link LocalAppForwarder#url}: for every bindable local URL, the path and query are those Reactor
 * Netty takes from the absolute URL (its pattern, copied here from {@code UriEndpointFactory}).
 */
class LocalClientsTests {

    /** Reactor Netty 1.3's {@code UriEndpointFactory.URL_PATTERN}. */
    private static final Pattern URL_PATTERN =
            Pattern.compile("(?:(\\w+)://)?((?:\\[.+?])|(?<!\\[)(?:[^/?]+?))(?::(\\d{2,5}))?([/?].*)?");

    private static final List<String> BASES = List.of(
            "http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://localhost:3000/app", "http://localhost:3000/app/",
            "http://[::1]:9000/x", "http://app.internal", "http://app.internal/base/path", "http://10.0.0.1:65535");

    private static final List<String> TARGETS = List.of(
            "/", "/small", "small", "/a/b?c=d&e=%20f", "/?q", "/p#frag", "/p?q=1#frag", "/%2F..%2F", "/x;y=z");

    @Test
    void pathAndQueryAreWhatReactorNettyTakesFromTheAbsoluteUrl() {
        for (String base : BASES) {
            URI localUrl = URI.create(base);
            assertThat(LocalClients.bindable(localUrl)).as(base).isTrue();
            for (String target : TARGETS) {
                Matcher matcher = URL_PATTERN.matcher(LocalAppForwarder.url(localUrl, target));
                assertThat(matcher.matches()).isTrue();
                assertThat(LocalAppForwarder.pathAndQuery(localUrl, target))
                        .as(base + " + " + target)
                        .isEqualTo(cleanPathAndQuery(matcher.group(4)));
            }
        }
    }

    @Test
    void onlyPlainHttpUrlsWithAPortThePatternReadsAreBindable() {
        assertThat(List.of("https://127.0.0.1:8443", "dns://app:8080", "http://user@127.0.0.1:8080",
                        "http://127.0.0.1:8", "http://my_host:8080"))
                .noneMatch(url -> LocalClients.bindable(URI.create(url)));
    }

    /** {@code UriEndpointFactory.cleanPathAndQuery}. */
    private static String cleanPathAndQuery(String pathAndQuery) {
        if (pathAndQuery == null) {
            pathAndQuery = "/";
        } else {
            int pos = pathAndQuery.indexOf('#');
            if (pos > -1) {
                pathAndQuery = pathAndQuery.substring(0, pos);
            }
        }
        if (pathAndQuery.isEmpty()) {
            pathAndQuery = "/";
        } else if (pathAndQuery.charAt(0) == '?') {
            pathAndQuery = "/" + pathAndQuery;
        }
        return pathAndQuery;
    }
}
