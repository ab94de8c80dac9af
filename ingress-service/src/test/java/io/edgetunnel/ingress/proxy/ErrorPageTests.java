package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ErrorPageTests {

    @Test
    void browsersNavigationPrefersHtmlButWildcardsAndJsonDoNot() {
        assertThat(ErrorPage.preferred(List.of("text/html,application/xhtml+xml,*/*;q=0.8"))).isTrue();
        assertThat(ErrorPage.preferred(List.of("application/xhtml+xml"))).isTrue();
        assertThat(ErrorPage.preferred(List.of("text/html;q=0.9, application/json;q=0.9"))).isTrue();
        assertThat(ErrorPage.preferred(List.of())).isFalse();
        assertThat(ErrorPage.preferred(List.of("*/*"))).isFalse();
        assertThat(ErrorPage.preferred(List.of("text/*"))).isFalse();
        assertThat(ErrorPage.preferred(List.of("application/problem+json, text/html;q=0.1"))).isFalse();
        assertThat(ErrorPage.preferred(List.of("text/html;q=0"))).isFalse();
        assertThat(ErrorPage.preferred(List.of("text/html;q=x;;"))).isFalse();
    }

    @Test
    void everyPieceOfInputIsEscaped() {
        String page = new String(ErrorPage.render(404, "<b>", "no route for host <script>x</script>&'\"",
                "id\"><img src=x>", 5, true), StandardCharsets.UTF_8);

        assertThat(page)
                .contains("&lt;script&gt;x&lt;/script&gt;&amp;&#39;&quot;")
                .contains("id&quot;&gt;&lt;img src=x&gt;")
                .doesNotContain("<script")
                .doesNotContain("<img")
                .doesNotContain("http-equiv"); // only a 503 retries
    }

    @Test
    void unavailablePageRetriesOnlyForSafeMethods() {
        String get = new String(ErrorPage.render(503, "No agent available", "d", null, 5, true), StandardCharsets.UTF_8);
        String post = new String(ErrorPage.render(503, "No agent available", "d", null, 5, false), StandardCharsets.UTF_8);

        assertThat(get).contains("<meta http-equiv=\"refresh\" content=\"5\">").contains("by itself in 5 seconds");
        assertThat(post).doesNotContain("http-equiv").contains("Please try again in 5 seconds");
        assertThat(get).doesNotContain("request-id");
    }
}
