package io.edgetunnel.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalAppForwarderIntegrationTests.Collector;
import io.edgetunnel.agent.support.LocalApp;
import io.edgetunnel.protocol.Header;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Mono;

/**
 * The agent strips the same hop-by-hop fields as the ingress (one list, in shared-protocol): the
 * {@code Proxy-*} family and {@code HTTP2-Settings} reach neither the local app nor the tunnel.
 */
class HopByHopHeadersIntegrationTests {

    private final LocalAppForwarder forwarder = new LocalAppForwarder(
            new AgentProperties.Local(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10), 50,
                    new AgentProperties.Websocket(DataSize.ofMegabytes(16))),
            new SimpleMeterRegistry());

    private LocalApp app;

    @AfterEach
    void tearDown() {
        forwarder.destroy();
        if (app != null) {
            app.close();
        }
    }

    @Test
    void proxyFieldsAndHttp2SettingsNeitherReachTheAppNorComeBackFromIt() {
        app = new LocalApp(r -> r.get("/hop", (req, res) -> res
                .header("X-Received", String.join(",", req.requestHeaders().names()).toLowerCase())
                .header("Proxy-Authenticate", "Basic realm=app")
                .header("Proxy-Status", "app")
                .header("HTTP2-Settings", "AAMAAABk")
                .header("X-End-To-End", "kept")
                .sendString(Mono.just("ok"))));
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(
                new Route("hop.localhost", "/", URI.create(app.url())),
                "GET",
                "/hop",
                List.of(new Header("Host", "hop.localhost"),
                        new Header("Proxy-Authorization", "Basic c2VjcmV0"),
                        new Header("Proxy-Custom", "1"),
                        new Header("HTTP2-Settings", "AAMAAABk"),
                        new Header("X-Client", "kept")),
                null);

        forwarder.forward(request, collector).block(Duration.ofSeconds(10));

        assertThat(collector.status).isCompletedWithValue(200);
        assertThat(collector.header("X-Received"))
                .contains("x-client")
                .doesNotContain("proxy-authorization", "proxy-custom", "http2-settings");
        assertThat(collector.headers).extracting(Header::name)
                .contains("X-End-To-End")
                .doesNotContain("Proxy-Authenticate", "Proxy-Status", "HTTP2-Settings");
    }
}
