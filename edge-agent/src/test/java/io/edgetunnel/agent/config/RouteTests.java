package io.edgetunnel.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouteTests {

    private static Route route(String prefix, boolean strip) {
        return new Route("app.example", prefix, URI.create("http://127.0.0.1:3000"), strip, "", -1, null, null,
                Map.of(), List.of(), Map.of(), List.of(), HealthCheck.NONE, LocalProtocol.HTTP1);
    }

    @Test
    void stripPrefixRemovesThePrefixAndKeepsTheQuery() {
        Route api = route("/api", true);
        assertThat(api.localTarget("/api/users?x=1")).isEqualTo("/users?x=1");
        assertThat(api.localTarget("/api")).isEqualTo("/");
        assertThat(api.localTarget("/api?x=1")).isEqualTo("/?x=1");
        assertThat(route("/api/", true).localTarget("/api/users")).isEqualTo("/users");
        assertThat(route("/", true).localTarget("/users")).isEqualTo("/users");
    }

    @Test
    void withoutStripPrefixTheTargetIsUnchanged() {
        assertThat(route("/api", false).localTarget("/api/users")).isEqualTo("/api/users");
    }

    @Test
    void defaultsAndValidation() {
        Route plain = new Route("App.Example", "/", URI.create("http://127.0.0.1:3000"));
        assertThat(plain.host()).isEqualTo("app.example");
        assertThat(plain.maxRequestBodyBytes()).isEqualTo(-1);
        assertThat(plain.hostRewrite()).isEmpty();
        assertThat(plain.responseTimeout()).isNull();
        assertThatThrownBy(() -> new Route("a.example", "/", URI.create("http://h"), false, "", -2, null, null,
                Map.of(), List.of(), Map.of(), List.of(), null, null)).hasMessageContaining("max-request-body-bytes");
        assertThatThrownBy(() -> new Route("a.example", "/", URI.create("http://h"), false, "", -1, Duration.ZERO, null,
                Map.of(), List.of(), Map.of(), List.of(), null, null)).hasMessageContaining("response-timeout");
        assertThatThrownBy(() -> new Route("a.example", "/", URI.create("http://h"), false, "", -1, null,
                Duration.ofSeconds(-1), Map.of(), List.of(), Map.of(), List.of(), null, null))
                .hasMessageContaining("idle-timeout");
    }

    @Test
    void healthCheckIsOffByDefaultWithSensibleSettings() {
        Route plain = new Route("a.example", "/", URI.create("http://127.0.0.1:3000"));
        assertThat(plain.healthCheck()).isEqualTo(HealthCheck.NONE);
        assertThat(plain.healthCheck().enabled()).isFalse();
        HealthCheck check = new HealthCheck(" /healthz ", null, null, 3, 2);
        assertThat(check.enabled()).isTrue();
        assertThat(check.path()).isEqualTo("/healthz");
        assertThat(check.interval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(check.timeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void healthCheckSettingsAreValidated() {
        assertThatThrownBy(() -> new HealthCheck("healthz", null, null, 3, 2))
                .hasMessage("health-check.path: healthz (expected: empty or starting with /)");
        assertThatThrownBy(() -> new HealthCheck("/h", Duration.ZERO, null, 3, 2))
                .hasMessageContaining("health-check.interval: PT0S (expected: > 0)");
        assertThatThrownBy(() -> new HealthCheck("/h", null, Duration.ofSeconds(-1), 3, 2))
                .hasMessageContaining("health-check.timeout");
        assertThatThrownBy(() -> new HealthCheck("/h", null, null, 0, 2))
                .hasMessage("health-check.failure-threshold: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new HealthCheck("/h", null, null, 3, 0))
                .hasMessage("health-check.success-threshold: 0 (expected: >= 1)");
    }

    @Test
    void protocolDefaultsToHttp1AndH2cNeedsACleartextUrl() {
        assertThat(new Route("a.example", "/", URI.create("http://127.0.0.1:3000")).protocol())
                .isEqualTo(LocalProtocol.HTTP1);
        assertThat(new Route("a.example", "/", URI.create("http://127.0.0.1:50051"), HealthCheck.NONE,
                        LocalProtocol.H2C).protocol())
                .isEqualTo(LocalProtocol.H2C);
        assertThatThrownBy(() -> new Route("a.example", "/", URI.create("https://127.0.0.1:50051"), HealthCheck.NONE,
                        LocalProtocol.H2C))
                .hasMessageContaining("protocol h2c");
    }

    @Test
    void theStringFormTakesAProtocolOption() {
        RouteStringConverter converter = new RouteStringConverter();
        Route grpc = converter.convert("grpc.example/svc=http://127.0.0.1:50051;protocol=h2c");
        assertThat(grpc.protocol()).isEqualTo(LocalProtocol.H2C);
        assertThat(grpc.localUrl()).isEqualTo(URI.create("http://127.0.0.1:50051"));
        assertThat(grpc.pathPrefix()).isEqualTo("/svc");
        assertThat(converter.convert("web.example=http://127.0.0.1:3000").protocol()).isEqualTo(LocalProtocol.HTTP1);
        assertThat(converter.convert("g.example=http://127.0.0.1:1;health-check.path=/h;protocol=h2c").healthCheck().path())
                .isEqualTo("/h");
        assertThatThrownBy(() -> converter.convert("g.example=http://127.0.0.1:1;protocol=h3"))
                .hasMessage("route g.example: protocol=h3 (expected: http1 or h2c)");
    }

    @Test
    void anHttpRouteTakesATargetFoundByDns() {
        RouteStringConverter converter = new RouteStringConverter();
        Route srv = converter.convert("app.example=dns+srv://_app._tcp.svc.local/base;protocol=h2c");
        assertThat(srv.localUrl()).isEqualTo(URI.create("dns+srv://_app._tcp.svc.local/base"));
        assertThat(srv.protocol()).isEqualTo(LocalProtocol.H2C);
        assertThat(converter.convert("app.example=dns://app.svc.local:8080").localUrl().getPort()).isEqualTo(8080);
        // the address comes with each request: the URL the client gets is only the path
        assertThat(io.edgetunnel.agent.proxy.LocalAppForwarder.url(srv.localUrl(), "/x?y=1")).isEqualTo("/base/x?y=1");
    }

    @Test
    void aMalformedTargetFoundByDnsIsAClearStartupError() {
        RouteStringConverter converter = new RouteStringConverter();
        assertThatThrownBy(() -> converter.convert("a.example=dns+srv://_app._tcp.svc.local:80"))
                .hasMessageContaining("localUrl: dns+srv://_app._tcp.svc.local:80 has a port (the SRV records give it)")
                .hasMessageContaining("expected: dns://name:port[/path] or dns+srv://_service._tcp.name[/path]");
        assertThatThrownBy(() -> converter.convert("a.example=dns://app.svc.local"))
                .hasMessageContaining("has no host name and port");
        assertThatThrownBy(() -> converter.convert("a.example=dns+srv://"))
                .hasMessageContaining("route a.example: url dns+srv://")
                .hasMessageContaining("dns+srv://_app._tcp.svc.local");
        assertThatThrownBy(() -> converter.convert("a.example=dns+srv://user@_app._tcp.svc.local"))
                .hasMessageContaining("has no name");
        assertThatThrownBy(() -> converter.convert("a.example=dns://app.svc.local:80/?x=1"))
                .hasMessageContaining("has a query");
        assertThatThrownBy(() -> converter.convert("a.example=tcp://127.0.0.1:22"))
                .hasMessageContaining("HTTP routes with http://, https://, dns:// or dns+srv://");
    }
}
