package io.edgetunnel.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.HealthCheck;
import io.edgetunnel.agent.config.LocalProtocol;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalAppForwarderIntegrationTests.Collector;
import io.edgetunnel.agent.support.LocalApp;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpProtocol;

/**
 * Routes whose local app is found by DNS ({@code dns://localhost:port}, looked up by Netty's resolver
 * from {@code /etc/hosts}): each request connects to a looked-up address, over HTTP/1.1 or h2c; when
 * no address accepts, the exchange fails as a connect failure (502), before anything was relayed.
 * The failover between targets and following changed records are in the e2e tests, which run a DNS
 * server.
 */
class LocalAppForwarderDnsIntegrationTests {

    private final LocalAppForwarder forwarder = new LocalAppForwarder(
            new AgentProperties.Local(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10), 50,
                    new AgentProperties.Websocket(DataSize.ofMegabytes(16))),
            new SimpleMeterRegistry());
    private final List<LocalApp> apps = new ArrayList<>();

    @AfterEach
    void tearDown() {
        forwarder.destroy();
        apps.forEach(LocalApp::close);
    }

    private static Route route(String url, LocalProtocol protocol) {
        return new Route("demo.localhost", "/", URI.create(url), HealthCheck.NONE, protocol);
    }

    @Test
    void anHttp1RequestReachesTheAppUnderTheUrlPathWithTheTargetNameAsDefaultHost() {
        LocalApp app = new LocalApp(r -> r.post("/base/echo", (req, res) -> res
                .header("x-host", String.valueOf(req.requestHeaders().get("host")))
                .send(req.receive().retain())));
        apps.add(app);
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(route("dns://localhost:" + app.port() + "/base", LocalProtocol.HTTP1),
                "POST", "/echo", List.of(new Header("content-length", "5")),
                Flux.just(ByteBufAllocator.DEFAULT.buffer().writeBytes("hello".getBytes(StandardCharsets.UTF_8))));

        forwarder.forward(request, collector).block(Duration.ofSeconds(10));

        assertThat(collector.status).isCompletedWithValue(200);
        assertThat(collector.text()).isEqualTo("hello");
        assertThat(collector.header("x-host")).isEqualTo("localhost:" + app.port());
    }

    @Test
    void anH2cRouteFoundByDnsSpeaksHttp2() {
        LocalApp app = new LocalApp(r -> r.get("/p", (req, res) -> res
                .header("x-app-protocol", req.protocol())
                .sendString(Mono.just("ok"))), HttpProtocol.H2C);
        apps.add(app);
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(route("dns://localhost:" + app.port(), LocalProtocol.H2C),
                "GET", "/p", List.of(new Header("Host", "demo.localhost")), null);

        forwarder.forward(request, collector).block(Duration.ofSeconds(10));

        assertThat(collector.status).isCompletedWithValue(200);
        assertThat(collector.header("x-app-protocol")).isEqualTo("HTTP/2.0");
        assertThat(collector.text()).isEqualTo("ok");
    }

    @Test
    void noTargetAcceptingIsAConnectFailureWithNothingRelayed() {
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(route("dns://localhost:" + LocalApp.freePort(), LocalProtocol.HTTP1),
                "GET", "/", List.of(), null);
        AtomicReference<Throwable> error = new AtomicReference<>();

        forwarder.forward(request, collector).doOnError(error::set).onErrorResume(e -> Mono.empty())
                .block(Duration.ofSeconds(10));

        assertThat(error.get()).isInstanceOf(LocalExchangeException.class);
        assertThat(((LocalExchangeException) error.get()).resetCode()).isEqualTo(ResetCode.UPSTREAM_CONNECT_FAILED);
        assertThat(error.get().getMessage()).contains("dns://localhost:");
        assertThat(collector.status).isNotDone();
    }
}
