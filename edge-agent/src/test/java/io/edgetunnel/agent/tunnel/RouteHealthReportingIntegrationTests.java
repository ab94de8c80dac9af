package io.edgetunnel.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.agent.support.FakeIngress;
import io.edgetunnel.agent.support.LocalApp;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The agent reports its routes' local health over the tunnel (ROUTE_HEALTH) against a fake ingress:
 * on each change without reconnecting, after Accept on every new tunnel, and it refuses a request
 * for an unhealthy route that the ingress sent before it knew.
 */
class RouteHealthReportingIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final RouteClaim SICK = RouteClaim.host("sick.example");

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final AtomicInteger healthStatus = new AtomicInteger(503);
    private final AtomicInteger served = new AtomicInteger();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private AgentLauncher agent(FakeIngress ingress, LocalApp app) {
        Map<String, String> properties = new HashMap<>();
        properties.put("agent.ingress-uri", ingress.uri());
        // the AGENT_ROUTES form: sick.example is checked, fine.example is not
        properties.put("agent.routes", "sick.example=" + app.url()
                + ";health-check.path=/health;health-check.interval=100ms;health-check.timeout=500ms;"
                + "health-check.failure-threshold=1;health-check.success-threshold=1,fine.example=" + app.url());
        properties.put("agent.token", "t0ken");
        properties.put("agent.id", "health-agent");
        properties.put("agent.reconnect.min-backoff", "50ms");
        properties.put("agent.reconnect.max-backoff", "200ms");
        return track(AgentLauncher.start(properties));
    }

    private LocalApp app() {
        return track(new LocalApp(routes -> routes
                .get("/health", (req, res) -> res.status(healthStatus.get()).send())
                .get("/hello", (req, res) -> {
                    served.incrementAndGet();
                    return res.sendString(Mono.just("hello"));
                })));
    }

    private static Frame.RouteHealth nextHealth(FakeIngress.Tunnel tunnel) throws InterruptedException {
        return tunnel.next(Frame.RouteHealth.class, WAIT);
    }

    @Test
    void reportsChangesOnTheOpenTunnelAndTheCurrentStateAfterEveryAccept() throws Exception {
        LocalApp app = app();
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress, app);

        FakeIngress.Tunnel first = ingress.awaitTunnel(WAIT);
        assertThat(first.hello().routes()).containsExactly(SICK, RouteClaim.host("fine.example"));
        // unchecked or failing: out of rotation from the start, and only the checked route is reported
        assertThat(nextHealth(first)).isEqualTo(new Frame.RouteHealth(SICK, false));

        healthStatus.set(200);
        Frame.RouteHealth back = nextHealth(first);
        while (!back.healthy()) {
            back = nextHealth(first); // a repeat of the unhealthy state (first check result) may come first
        }
        assertThat(back).isEqualTo(new Frame.RouteHealth(SICK, true));

        healthStatus.set(500);
        assertThat(nextHealth(first)).isEqualTo(new Frame.RouteHealth(SICK, false));
        assertThat(agent.tunnels().connectedTunnels()).as("no reconnect for a health change").isEqualTo(1);
        assertThat(ingress.tunnels()).hasSize(1);

        // a new tunnel learns the current state right after Accept, before anything else
        first.close(1001, "ingress restarting");
        FakeIngress.Tunnel second = ingress.awaitTunnel(WAIT);
        assertThat(second.next(WAIT)).isEqualTo(new Frame.RouteHealth(SICK, false));

        healthStatus.set(200);
        assertThat(nextHealth(second)).isEqualTo(new Frame.RouteHealth(SICK, true));
    }

    @Test
    void refusesARequestForAnUnhealthyRouteSoTheIngressRetriesElsewhere() throws Exception {
        LocalApp app = app();
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress, app);
        FakeIngress.Tunnel tunnel = ingress.awaitTunnel(WAIT);
        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 1);
        assertThat(nextHealth(tunnel)).isEqualTo(new Frame.RouteHealth(SICK, false));

        tunnel.send(new Frame.Request(1, "GET", "/hello", "sick.example", "/", List.of(), true));
        tunnel.send(new Frame.Request(3, "GET", "/hello", "fine.example", "/", List.of(), true));

        Frame.Reset refused = null;
        Frame.Response answered = null;
        while (refused == null || answered == null) {
            Frame frame = tunnel.next(WAIT);
            if (frame instanceof Frame.Reset reset) {
                refused = reset;
            } else if (frame instanceof Frame.Response response) {
                answered = response;
            }
        }
        assertThat(refused.streamId()).isEqualTo(1);
        assertThat(refused.code()).isEqualTo(ResetCode.REFUSED_STREAM);
        assertThat(refused.message()).isEqualTo("local app for sick.example is unhealthy");
        assertThat(answered.streamId()).isEqualTo(3);
        assertThat(answered.status()).isEqualTo(200);
        assertThat(served.get()).as("only the healthy route reached the app").isEqualTo(1);
    }
}
