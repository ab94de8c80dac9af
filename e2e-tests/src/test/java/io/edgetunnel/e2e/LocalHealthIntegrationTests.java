package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Local health checks end to end: a real ingress, real agents checking real upstreams every 100 ms.
 * An upstream whose health endpoint fails stops getting traffic and gets it back once it passes,
 * over the same tunnels; a new agent with a failing app never gets a request; with every agent's
 * app unhealthy the host answers 503 with {@code Retry-After}.
 */
@ExtendWith(NoLeaks.class)
class LocalHealthIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static IngressNode ingress;

    @BeforeAll
    static void start() {
        ingress = IngressNode.start("ingress.proxy.response-timeout=5s");
    }

    @AfterAll
    static void stop() {
        ingress.close();
    }

    /** An agent with one route whose local app is checked at {@code GET /health} every 100 ms. */
    private static AgentNode checkedAgent(String id, String host, UpstreamApp app, int tunnels) {
        return AgentNode.start(ingress, id, AgentNode.route(host, app.url()),
                "agent.tunnel-count=" + tunnels,
                "agent.routes[0].health-check.path=/health",
                "agent.routes[0].health-check.interval=100ms",
                "agent.routes[0].health-check.timeout=500ms",
                "agent.routes[0].health-check.failure-threshold=2",
                "agent.routes[0].health-check.success-threshold=2");
    }

    private static List<Tunnel> tunnelsOf(String agentId) {
        return ingress.registry().tunnels().stream().filter(t -> t.agentId().equals(agentId)).toList();
    }

    /** The ingress has {@code count} tunnels of the agent, each with the route's health as given. */
    private static boolean seenAs(String agentId, String host, int count, boolean healthy) {
        List<Tunnel> tunnels = tunnelsOf(agentId);
        return tunnels.size() == count
                && tunnels.stream().allMatch(t -> t.unhealthyRoutes().contains(RouteClaim.host(host)) != healthy);
    }

    private static Set<String> sessionIds(String... agentIds) {
        Set<String> agents = Set.of(agentIds);
        return ingress.registry().tunnels().stream()
                .filter(t -> agents.contains(t.agentId()))
                .map(Tunnel::sessionId)
                .collect(Collectors.toSet());
    }

    @Test
    void anUpstreamFailingItsHealthCheckGetsNoTrafficAndGetsItBackOverTheSameTunnels() {
        String host = "checked.example";
        try (UpstreamApp appA = new UpstreamApp("a");
                UpstreamApp appB = new UpstreamApp("b");
                AgentNode agentA = checkedAgent("health-a", host, appA, 2);
                AgentNode agentB = checkedAgent("health-b", host, appB, 2)) {
            await().atMost(TIMEOUT).until(() -> seenAs("health-a", host, 2, true) && seenAs("health-b", host, 2, true));
            Set<String> sessions = sessionIds("health-a", "health-b");
            long registrations = (long) ingress.meters().get("tunnel.ingress.registrations")
                    .tag("result", "accepted").counter().count();
            Load load = Load.start(host, 4);
            await().atMost(TIMEOUT).until(() -> load.bodies.containsAll(Set.of("a", "b")) && load.ok.get() >= 50);

            appA.healthStatus.set(503);
            await().atMost(TIMEOUT).until(() -> seenAs("health-a", host, 2, false));
            // streams the agent accepted before it saw the failure finish; new ones are refused
            await().atMost(TIMEOUT).until(() -> agentA.tunnels().activeStreams() == 0);
            int servedByA = appA.requests.get();
            long ok = load.ok.get();
            await().atMost(TIMEOUT).until(() -> load.ok.get() >= ok + 200);
            assertThat(appA.requests.get()).as("requests reaching the unhealthy upstream").isEqualTo(servedByA);
            assertThat(seenAs("health-b", host, 2, true)).isTrue();

            appA.healthStatus.set(200);
            await().atMost(TIMEOUT).until(() -> seenAs("health-a", host, 2, true));
            await().atMost(TIMEOUT).until(() -> appA.requests.get() >= servedByA + 50);
            load.stop();

            assertThat(load.failures).as("failed requests").isEmpty();
            assertThat(load.bodies).containsOnly("a", "b");
            assertThat(sessionIds("health-a", "health-b")).as("the same tunnels throughout").isEqualTo(sessions);
            assertThat(ingress.meters().get("tunnel.ingress.registrations").tag("result", "accepted").counter().count())
                    .as("registrations: no reconnect").isEqualTo((double) registrations);
            assertThat(agentA.tunnels().connectedTunnels()).isEqualTo(2);
        }
    }

    @Test
    void aNewAgentWhoseAppIsFailingNeverGetsARequest() {
        String host = "newcomer.example";
        try (UpstreamApp healthy = new UpstreamApp("healthy");
                UpstreamApp sick = new UpstreamApp("sick");
                AgentNode first = checkedAgent("newcomer-healthy", host, healthy, 1)) {
            sick.healthStatus.set(500);
            await().atMost(TIMEOUT).until(() -> seenAs("newcomer-healthy", host, 1, true));
            Load load = Load.start(host, 4);
            await().atMost(TIMEOUT).until(() -> load.ok.get() >= 20);

            try (AgentNode second = checkedAgent("newcomer-sick", host, sick, 2)) {
                await().atMost(TIMEOUT).until(() -> seenAs("newcomer-sick", host, 2, false));
                long ok = load.ok.get();
                await().atMost(TIMEOUT).until(() -> load.ok.get() >= ok + 200);
                load.stop();
                assertThat(second.tunnels().connectedTunnels()).isEqualTo(2);
            }

            assertThat(load.failures).as("failed requests").isEmpty();
            assertThat(load.bodies).containsOnly("healthy");
            assertThat(sick.requests.get()).as("requests reaching the failing app").isZero();
            assertThat(sick.healthChecks.get()).as("health checks of the failing app").isPositive();
        }
    }

    @Test
    void everyAgentUnhealthyAnswers503WithRetryAfter() {
        String host = "allsick.example";
        try (UpstreamApp appA = new UpstreamApp("a");
                UpstreamApp appB = new UpstreamApp("b");
                AgentNode agentA = checkedAgent("allsick-a", host, appA, 1);
                AgentNode agentB = checkedAgent("allsick-b", host, appB, 1)) {
            await().atMost(TIMEOUT).until(() -> seenAs("allsick-a", host, 1, true) && seenAs("allsick-b", host, 1, true));
            assertThat(PublicClient.get(ingress, host, "/name").status()).isEqualTo(200);

            appA.healthStatus.set(503);
            appB.healthStatus.set(503);
            await().atMost(TIMEOUT).until(() -> seenAs("allsick-a", host, 1, false) && seenAs("allsick-b", host, 1, false));

            PublicClient.Reply reply = PublicClient.get(ingress, host, "/name");
            assertThat(reply.status()).isEqualTo(503);
            assertThat(reply.headers().get("Retry-After")).isNotBlank();
            assertThat(reply.body()).contains("No agent available");
            assertThat(appA.requests.get() + appB.requests.get()).isEqualTo(1);

            appB.healthStatus.set(200);
            await().atMost(TIMEOUT).until(() -> seenAs("allsick-b", host, 1, true));
            assertThat(PublicClient.get(ingress, host, "/name").body()).isEqualTo("b");
        }
    }

    /** GETs {@code /name} back to back with a fixed concurrency, recording bodies and failures. */
    private static final class Load {
        final AtomicLong ok = new AtomicLong();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        final Set<String> bodies = ConcurrentHashMap.newKeySet();
        final Disposable running;

        private Load(String host, int concurrency) {
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            running = Flux.range(0, Integer.MAX_VALUE)
                    .takeWhile(i -> System.nanoTime() < deadline)
                    .flatMap(i -> PublicClient.to(ingress, host).get().uri("/name?i=" + i)
                            .responseSingle(PublicClient::reply)
                            .doOnNext(reply -> {
                                if (reply.status() == 200) {
                                    ok.incrementAndGet();
                                    bodies.add(reply.body());
                                } else {
                                    failures.add("request " + i + ": " + reply.status() + " " + reply.body());
                                }
                            })
                            .onErrorResume(e -> {
                                failures.add("request " + i + ": " + e);
                                return Mono.empty();
                            }), concurrency)
                    .subscribeOn(Schedulers.boundedElastic())
                    .subscribe();
        }

        static Load start(String host, int concurrency) {
            return new Load(host, concurrency);
        }

        void stop() {
            running.dispose();
        }
    }
}
