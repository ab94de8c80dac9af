package io.edgetunnel.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.agent.support.FakeIngress;
import io.edgetunnel.agent.support.LocalApp;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Tunnels that the load balancer put on one ingress replica move to distinct replicas, as the
 * fake ingress's Accepts name them (protocol 6.1), without cutting a stream.
 */
class ReplicaSpreadIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final List<AutoCloseable> resources = new ArrayList<>();

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

    private AgentLauncher agent(FakeIngress ingress, String routes, Map<String, String> extra) {
        Map<String, String> properties = AgentLauncher.testProperties(ingress.uri(), routes, "spread-agent");
        properties.put("agent.tunnel-count", "2");
        // long enough that a cold first dial never times out into an extra tunnel on a loaded machine
        properties.put("agent.connect-timeout", "20s");
        properties.put("agent.reconnect.min-backoff", "50ms");
        properties.put("agent.reconnect.max-backoff", "200ms");
        properties.putAll(extra);
        return track(AgentLauncher.start(properties));
    }

    private static double redials(AgentLauncher agent) {
        return agent.context().getBean(MeterRegistry.class).get("tunnel.agent.spread.redials").counter().count();
    }

    private static double replicasGauge(AgentLauncher agent) {
        return agent.context().getBean(MeterRegistry.class).get("tunnel.agent.replicas").gauge().value();
    }

    @Test
    void aTunnelSharingAReplicaRedialsAndEndsOnAnotherOne() throws Exception {
        AtomicInteger hellos = new AtomicInteger();
        FakeIngress ingress = track(new FakeIngress(0,
                hello -> FakeIngress.accept(hellos.incrementAndGet() <= 2 ? "replica-a" : "replica-b", 2)));
        AgentLauncher agent = agent(ingress, "demo.localhost=http://127.0.0.1:1", Map.of());

        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 2
                && agent.tunnels().distinctReplicas() == 2);

        assertThat(agent.tunnels().tunnelReplicas()).containsOnlyKeys("tunnel-0", "tunnel-1");
        assertThat(agent.tunnels().tunnelReplicas().values()).containsExactlyInAnyOrder("replica-a", "replica-b");
        assertThat(replicasGauge(agent)).isEqualTo(2.0);
        assertThat(redials(agent)).isEqualTo(1.0);
        // the duplicate was drained, not cut: DRAIN, its barrier answered, then 1001
        await().atMost(WAIT).until(() -> ingress.tunnels().stream().anyMatch(t -> t.closeStatus() != null));
        List<FakeIngress.Tunnel> closed = ingress.tunnels().stream().filter(t -> t.closeStatus() != null).toList();
        assertThat(closed).hasSize(1);
        assertThat(closed.get(0).closeStatus()).isEqualTo(1001);
        assertThat(closed.get(0).next(Frame.Drain.class, WAIT).reason()).contains("moved");
        assertThat(ingress.tunnels()).hasSize(3);
        assertThat(agent.tunnels().spread.settled()).isTrue();
    }

    @Test
    void staysWhenTheIngressHasOneReplica() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept("replica-a", 1)));
        AgentLauncher agent = agent(ingress, "demo.localhost=http://127.0.0.1:1", Map.of());

        // both Accepts decided (the decision is taken synchronously on each Accept)
        ReplicaSpread spread = agent.tunnels().spread;
        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 2
                && spread.replicaOf(0).equals("replica-a") && spread.replicaOf(1).equals("replica-a"));

        assertThat(spread.settled()).isTrue();
        assertThat(spread.redials(0) + spread.redials(1)).isZero();
        assertThat(redials(agent)).isZero();
        assertThat(ingress.tunnels()).hasSize(2).noneMatch(FakeIngress.Tunnel::isClosed);
        assertThat(replicasGauge(agent)).isEqualTo(1.0);
    }

    @Test
    void staysWhenSpreadingIsOff() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept("replica-a", 2)));
        AgentLauncher agent = agent(ingress, "demo.localhost=http://127.0.0.1:1", Map.of("agent.spread.enabled", "false"));

        ReplicaSpread spread = agent.tunnels().spread;
        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 2
                && spread.replicaOf(0).equals("replica-a") && spread.replicaOf(1).equals("replica-a"));

        assertThat(spread.redials(0) + spread.redials(1)).isZero();
        assertThat(redials(agent)).isZero();
        assertThat(ingress.tunnels()).hasSize(2);
    }

    @Test
    void keepsWhatItHasAfterTheMaximumOfRedials() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept("replica-a", 2)));
        AgentLauncher agent = agent(ingress, "demo.localhost=http://127.0.0.1:1", Map.of("agent.spread.max-redials", "2"));

        ReplicaSpread spread = agent.tunnels().spread;
        await().atMost(WAIT).until(() -> redials(agent) == 2.0 && spread.settled()
                && spread.redials(0) + spread.redials(1) == 2);
        // every replacement landed on replica-a again and was drained, never cut
        await().atMost(WAIT).until(() -> ingress.tunnels().stream().filter(t -> t.closeStatus() != null).count() == 2);

        assertThat(ingress.tunnels()).hasSize(4);
        assertThat(ingress.tunnels().stream().filter(t -> t.closeStatus() != null))
                .allMatch(t -> t.closeStatus() == 1001);
        assertThat(agent.tunnels().connectedTunnels()).isEqualTo(2);
        assertThat(agent.tunnels().tunnelReplicas().values()).containsExactly("replica-a", "replica-a");
        assertThat(redials(agent)).as("no re-dial once settled").isEqualTo(2.0);
    }

    @Test
    void aStreamInFlightOnTheDuplicateFinishesAfterTheMove() throws Exception {
        LocalApp app = track(new LocalApp(routes -> routes.get("/forever", (req, res) -> res.sendString(
                Flux.interval(Duration.ofMillis(5)).onBackpressureDrop().map(i -> "tick " + i + "\n")))));
        // Accepts by hand, so the test decides which tunnel is the duplicate and when the replacement lands
        FakeIngress ingress = track(new FakeIngress(0, null));
        AgentLauncher agent = agent(ingress, "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel first = ingress.awaitTunnel(WAIT);
        FakeIngress.Tunnel duplicate = ingress.awaitTunnel(WAIT);
        first.send(FakeIngress.accept("replica-a", 2));
        await().atMost(WAIT).until(() -> agent.tunnels().distinctReplicas() == 1);

        duplicate.send(FakeIngress.accept("replica-a", 2));
        // the ingress routes to a tunnel as soon as it accepted it: a request right behind the Accept
        duplicate.send(new Frame.Request(1, "GET", "/forever", "demo.localhost", "/", List.of(), true));
        assertThat(duplicate.next(Frame.Response.class, WAIT).status()).isEqualTo(200);
        FakeIngress.Tunnel replacement = ingress.awaitTunnel(WAIT);
        assertThat(duplicate.isClosed()).isFalse();

        replacement.send(FakeIngress.accept("replica-b", 2));

        assertThat(nextNonData(duplicate)).isInstanceOf(Frame.Drain.class);
        Frame afterDrain = duplicate.next(WAIT);
        assertThat(afterDrain).as("the stream keeps flowing after the Drain").isInstanceOf(Frame.Data.class);
        assertThat(afterDrain.streamId()).isEqualTo(1);
        await().atMost(WAIT).until(() -> agent.tunnels().distinctReplicas() == 2);
        assertThat(duplicate.isClosed()).isFalse();
        assertThat(agent.tunnels().activeStreams()).isEqualTo(1);

        duplicate.send(new Frame.Reset(1, ResetCode.CANCEL, "client done"));

        await().atMost(WAIT).until(() -> duplicate.closeStatus() != null);
        assertThat(duplicate.closeStatus()).isEqualTo(1001);
        assertThat(first.isClosed()).isFalse();
        assertThat(replacement.isClosed()).isFalse();
        assertThat(agent.tunnels().connectedTunnels()).isEqualTo(2);
        assertThat(agent.tunnels().tunnelReplicas().values()).containsExactlyInAnyOrder("replica-a", "replica-b");
    }

    /** The next frame that is not body data of the stream in flight. */
    private static Frame nextNonData(FakeIngress.Tunnel tunnel) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Frame frame = tunnel.next(WAIT);
            if (!(frame instanceof Frame.Data)) {
                return frame;
            }
        }
        throw new AssertionError("only DATA within " + WAIT);
    }
}
