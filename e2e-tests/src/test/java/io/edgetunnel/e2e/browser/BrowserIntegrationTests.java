package io.edgetunnel.e2e.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.Browser;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.TcpRelay;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.e2e.support.WebSocketApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;

/**
 * What people see, in a real browser (headless Chromium through WebDriver): the operator console on
 * the ingress's management port, the error pages a visitor's browser gets, and a page's WebSocket
 * through the tunnel when its agent is killed. Each test leaves a screenshot under
 * {@code target/screenshots/}.
 */
@ExtendWith(NoLeaks.class)
class BrowserIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static Browser browser;
    private static IngressNode ingress;
    private static UpstreamApp app;

    @BeforeAll
    static void start() {
        browser = Browser.start();
        ingress = IngressNode.start("ingress.proxy.retry-after=5s");
        app = new UpstreamApp("browser-app");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {browser, ingress, app}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    @AfterEach
    void screenshot(TestInfo test) {
        browser.screenshot(test.getTestMethod().orElseThrow().getName());
    }

    private String console() {
        return "http://127.0.0.1:" + ingress.managementPort() + "/";
    }

    private String publicUrl(String host, String path) {
        return "http://" + host + ":" + ingress.publicPort() + path;
    }

    private int pollsShown() {
        String shown = browser.driver().findElement(By.tagName("body")).getDomAttribute("data-poll-shown");
        return shown == null ? 0 : Integer.parseInt(shown);
    }

    private int pollsStarted() {
        String started = browser.driver().findElement(By.tagName("body")).getDomAttribute("data-poll-started");
        return started == null ? 0 : Integer.parseInt(started);
    }

    private String routeHealth(String route) {
        List<WebElement> rows = browser.driver().findElements(By.cssSelector("#routes tr[data-route='" + route + "']"));
        return rows.isEmpty() ? null : rows.get(0).getDomAttribute("data-health");
    }

    @Test
    void consoleShowsAnAgentAtTheFirstPollAfterItRegisteredAndARouteTurningUnhealthyAndBack() {
        browser.open(console());
        browser.await(TIMEOUT, d -> pollsShown() > 0);
        assertThat(browser.driver().findElement(By.id("readiness")).getText()).isEqualTo("ready");
        assertThat(browser.driver().findElements(By.cssSelector("#agents tbody tr"))).isEmpty();

        try (AgentNode agent = AgentNode.start(ingress, "console-agent", AgentNode.route("shop.test", app.url()),
                "agent.routes[0].health-check.path=/health",
                "agent.routes[0].health-check.interval=100ms",
                "agent.routes[0].health-check.timeout=500ms",
                "agent.routes[0].health-check.failure-threshold=2",
                "agent.routes[0].health-check.success-threshold=2")) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("shop.test") == 1);
            // the page polls every 1.5 s: the poll that starts next must show the agent, so it appears
            // within two seconds of registering, however slow this machine is at fetching
            int firstPollAfter = pollsStarted() + 1;
            WebElement row = browser.await(TIMEOUT, d -> d.findElements(
                    By.cssSelector("#agents tr[data-agent-id='console-agent']")).stream().findFirst().orElse(null));
            assertThat(pollsShown()).as("poll that first showed the agent").isLessThanOrEqualTo(firstPollAfter);
            assertThat(row.getText()).contains("console-agent").contains("shop.test").contains("protocol");
            browser.await(TIMEOUT, d -> "healthy".equals(routeHealth("shop.test")));
            // some traffic and a refused agent, so the console has figures to show (and docs a picture)
            for (int i = 0; i < 20; i++) {
                PublicClient.get(ingress, "shop.test", "/name");
            }
            try (AgentNode refused = AgentNode.start(ingress, "misconfigured-agent",
                    AgentNode.route("shop.test", app.url()), "agent.token=not-the-token")) {
                browser.await(TIMEOUT, d -> d.findElement(By.id("rejected")).getText().contains("BAD_CREDENTIALS"));
            }
            browser.await(TIMEOUT, d -> !d.findElement(By.cssSelector("#routes tr[data-route='shop.test'] td:nth-child(4)"))
                    .getText().equals("–"));
            assertThat(browser.driver().findElement(By.id("rejected")).getText()).doesNotContain("not-the-token");
            browser.screenshot("console");

            app.healthStatus.set(503);
            browser.await(TIMEOUT, d -> "unhealthy".equals(routeHealth("shop.test")));
            browser.screenshot("console-route-unhealthy");

            // the agent's own page on its management port says the same from its side
            browser.open("http://127.0.0.1:" + agent.managementPort() + "/");
            browser.await(TIMEOUT, d -> d.findElement(By.id("routes")).getText().contains("unhealthy"));
            assertThat(browser.driver().findElement(By.id("agent-id")).getText()).isEqualTo("console-agent");
            assertThat(browser.driver().findElement(By.id("routes")).getText()).contains("shop.test").contains("/health");
            browser.screenshot("agent-page");
            browser.open("http://127.0.0.1:" + agent.managementPort() + "/actuator/agent");
            assertThat(browser.driver().getPageSource()).contains("console-agent").doesNotContain(IngressNode.TOKEN);
            browser.open(console());

            app.healthStatus.set(200);
            browser.await(TIMEOUT, d -> "healthy".equals(routeHealth("shop.test")));
        } finally {
            app.healthStatus.set(200);
        }
        browser.await(TIMEOUT, d -> d.findElements(By.cssSelector("#agents tr[data-agent-id='console-agent']")).isEmpty());
    }

    @Test
    void browserGetsAReadable404PageForAnUnknownHost() {
        browser.open(publicUrl("unknown-site.test", "/"));

        assertThat(browser.driver().getTitle()).isEqualTo("404 Site not found");
        assertThat(browser.driver().findElement(By.tagName("h1")).getText()).contains("Site not found");
        assertThat(browser.driver().findElement(By.id("advice")).getText()).contains("Check the address");
        assertThat(browser.driver().findElement(By.id("request-id")).getText()).isNotBlank();
    }

    @Test
    void browserGetsA503PageThatRetriesByItselfAndRecoversWhenTheAgentIsBack() {
        AgentNode first = AgentNode.start(ingress, "restarting-agent", AgentNode.route("blog.test", app.url()));
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("blog.test") == 1);
        first.close();
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("blog.test") == 0);

        browser.open(publicUrl("blog.test", "/name"));

        assertThat(browser.driver().getTitle()).isEqualTo("503 Temporarily unavailable");
        assertThat(browser.driver().findElement(By.id("advice")).getText())
                .contains("try again by itself in 5 seconds");
        String requestId = browser.driver().findElement(By.id("request-id")).getText();
        assertThat(requestId).isNotBlank();
        browser.screenshot("error-503");

        try (AgentNode back = AgentNode.start(ingress, "restarting-agent", AgentNode.route("blog.test", app.url()))) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("blog.test") == 1);
            // the page's own refresh (Retry-After) brings the visitor the site, with no click
            browser.await(TIMEOUT, d -> d.getPageSource().contains("browser-app"));
        }
    }

    @Test
    void pageWebSocketThroughTheTunnelClosesWith1014WhenTheAgentIsKilled() throws Exception {
        try (WebSocketApp wsApp = new WebSocketApp();
                TcpRelay link = new TcpRelay(ingress.tunnelPort());
                AgentNode agent = AgentNode.startAt("ws://127.0.0.1:" + link.port() + "/tunnel", "ws-browser-agent",
                        Map.of("chat.test/echo", wsApp.url(), "chat.test", app.url()))) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("chat.test") == 1);
            // a page of the site itself, through the tunnel, so the socket is same-origin as in real use
            browser.open(publicUrl("chat.test", "/name"));
            JavascriptExecutor page = (JavascriptExecutor) browser.driver();
            page.executeScript("""
                    const pre = document.createElement('pre');
                    document.body.appendChild(pre);
                    const log = line => { pre.textContent += line + '\\n'; };
                    window.events = [];
                    const ws = new WebSocket(arguments[0]);
                    ws.onopen = () => { window.events.push('open'); log('open ' + arguments[0]); ws.send('hello'); };
                    ws.onmessage = e => { window.events.push('message:' + e.data); log('message: ' + e.data); };
                    ws.onclose = e => {
                      window.events.push('close:' + e.code + ':' + e.reason);
                      log('close: code ' + e.code + ', reason "' + e.reason + '", clean ' + e.wasClean);
                    };
                    """, "ws://chat.test:" + ingress.publicPort() + "/echo");
            browser.await(TIMEOUT, d -> events().contains("message:hello"));

            link.cut(); // the agent's connections die as if its host lost power

            String close = browser.await(TIMEOUT, d -> events().stream()
                    .filter(e -> e.startsWith("close:")).findFirst().orElse(null));
            assertThat(close).isEqualTo("close:1014:upstream failed");
        }
    }

    @SuppressWarnings("unchecked")
    private List<String> events() {
        Object events = ((JavascriptExecutor) browser.driver()).executeScript("return window.events || []");
        return (List<String>) events;
    }
}
