package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/** Error answers by content negotiation: HTML for a browser's navigation, problem JSON for everyone else. */
@IngressTest
class ErrorPageIntegrationTests {

    private static final String BROWSER_ACCEPT =
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

    @LocalServerPort
    int publicPort;

    @Autowired
    TunnelServer tunnelServer;

    @Autowired
    AgentRegistry registry;

    private Http.Reply get(String host, String accept, String requestId) {
        return Http.client(publicPort, host)
                .headers(h -> {
                    if (accept != null) {
                        h.set("Accept", accept);
                    }
                    if (requestId != null) {
                        h.set("X-Request-Id", requestId);
                    }
                })
                .get()
                .uri("/some/page")
                .responseSingle(Http::reply)
                .block(Duration.ofSeconds(30));
    }

    @Test
    void browserGetsAnHtmlPageWithThe404InPlainWordsAndItsRequestId() {
        Http.Reply reply = get("nowhere.page.test", BROWSER_ACCEPT, "req-page-404");

        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.headers().get("Content-Type")).startsWith("text/html");
        assertThat(reply.headers().get("Content-Security-Policy")).contains("default-src 'none'");
        assertThat(reply.headers().get("X-Request-Id")).isEqualTo("req-page-404");
        assertThat(reply.body())
                .startsWith("<!DOCTYPE html>")
                .contains("Site not found")
                .contains("nowhere.page.test")
                .contains("<code id=\"request-id\">req-page-404</code>")
                .doesNotContain("<script")
                .doesNotContain("http://")
                .doesNotContain("https://");
    }

    @Test
    void curlAndApiClientsKeepTheProblemJson() {
        for (String accept : new String[] {null, "*/*", "application/json", "application/json, text/html;q=0.5",
                "text/html;q=0", "not a media type;;"}) {
            Http.Reply reply = get("nowhere.page.test", accept, null);

            assertThat(reply.status()).as(String.valueOf(accept)).isEqualTo(404);
            assertThat(reply.headers().get("Content-Type")).as(String.valueOf(accept))
                    .isEqualTo("application/problem+json");
            assertThat(reply.body()).as(String.valueOf(accept)).contains("\"status\":404");
        }
    }

    @Test
    void browserGets503PageThatRetriesAfterRetryAfterSeconds() {
        try (FakeAgent agent = FakeAgent.registered(tunnelServer.port(), "agent-page", IngressTest.TOKEN, null,
                "restarting.page.test")) {
            assertThat(agent.isClosed()).isFalse();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> registry.tunnelCount("restarting.page.test") == 0);

        Http.Reply reply = get("restarting.page.test", BROWSER_ACCEPT, null);

        assertThat(reply.status()).isEqualTo(503);
        assertThat(reply.headers().get("Retry-After")).isEqualTo("7");
        assertThat(reply.headers().get("Content-Type")).startsWith("text/html");
        assertThat(reply.body())
                .contains("Temporarily unavailable")
                .contains("<meta http-equiv=\"refresh\" content=\"7\">")
                .contains("try again by itself in 7 seconds")
                .contains("<code id=\"request-id\">" + reply.headers().get("X-Request-Id") + "</code>");
    }

    @Test
    void nothingFromTheRequestIsEchoedUnescaped() {
        Http.Reply badHost = get("<script>alert(1)</script>.test", BROWSER_ACCEPT, "\"><img src=x onerror=alert(2)>");

        assertThat(badHost.status()).isEqualTo(400);
        assertThat(badHost.headers().get("Content-Type")).startsWith("text/html");
        assertThat(badHost.body()).doesNotContain("<script").doesNotContain("<img").doesNotContain("alert(");
    }
}
