package io.edgetunnel.ingress.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.support.StubTunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AgentRegistryTests {

    private final AgentRegistry registry = new AgentRegistry();

    private Tunnel pick(String host, String path) {
        RouteEntry<Tunnel> entry = registry.match(host, path);
        return entry == null ? null : entry.pick(null);
    }

    @Test
    void exactHostBeatsWildcard() {
        StubTunnel wildcard = new StubTunnel("wild", "*.example.com");
        StubTunnel exact = new StubTunnel("exact", "app.example.com");
        registry.register(wildcard);
        registry.register(exact);

        assertThat(pick("app.example.com", "/")).isSameAs(exact);
        assertThat(pick("other.example.com", "/")).isSameAs(wildcard);
        assertThat(pick("deep.sub.example.com", "/")).isSameAs(wildcard);
        assertThat(pick("example.com", "/")).isNull();
        assertThat(pick("notexample.com", "/")).isNull();
    }

    @Test
    void longestWildcardWins() {
        StubTunnel broad = new StubTunnel("broad", "*.example.com");
        StubTunnel narrow = new StubTunnel("narrow", "*.eu.example.com");
        registry.register(broad);
        registry.register(narrow);

        assertThat(pick("x.eu.example.com", "/")).isSameAs(narrow);
        assertThat(pick("eu.example.com", "/")).isSameAs(broad);
        assertThat(pick("x.us.example.com", "/")).isSameAs(broad);
    }

    @Test
    void longestPathPrefixWinsOnLabelBoundaries() {
        StubTunnel root = new StubTunnel("root", "app.test");
        StubTunnel api = new StubTunnel("api", "app.test/api");
        StubTunnel v2 = new StubTunnel("v2", "app.test/api/v2");
        registry.register(root);
        registry.register(api);
        registry.register(v2);

        assertThat(pick("app.test", "/")).isSameAs(root);
        assertThat(pick("app.test", "/api")).isSameAs(api);
        assertThat(pick("app.test", "/api/users")).isSameAs(api);
        assertThat(pick("app.test", "/api/v2/users")).isSameAs(v2);
        assertThat(pick("app.test", "/apix")).isSameAs(root);
        assertThat(registry.match("app.test", "/api/v2").route()).isEqualTo(new RouteClaim("app.test", "/api/v2"));
    }

    @Test
    void exactHostWithoutMatchingPrefixFallsBackToWildcard() {
        StubTunnel apiOnly = new StubTunnel("api", "app.test/api");
        StubTunnel wildcard = new StubTunnel("wild", "*.test");
        registry.register(apiOnly);
        registry.register(wildcard);

        assertThat(pick("app.test", "/api/x")).isSameAs(apiOnly);
        assertThat(pick("app.test", "/web")).isSameAs(wildcard);
    }

    @Test
    void roundRobinIsFairAcrossAgentsWithUnequalTunnelCounts() {
        StubTunnel a1 = new StubTunnel("agent-a", "rr.test");
        StubTunnel b1 = new StubTunnel("agent-b", "rr.test");
        StubTunnel b2 = new StubTunnel("agent-b", "rr.test");
        StubTunnel b3 = new StubTunnel("agent-b", "rr.test");
        registry.register(a1);
        registry.register(b1);
        registry.register(b2);
        registry.register(b3);

        Map<String, Integer> byAgent = new HashMap<>();
        Map<Tunnel, Integer> byTunnel = new HashMap<>();
        for (int i = 0; i < 6000; i++) {
            Tunnel tunnel = pick("rr.test", "/");
            byAgent.merge(tunnel.agentId(), 1, Integer::sum);
            byTunnel.merge(tunnel, 1, Integer::sum);
        }

        assertThat(byAgent).containsEntry("agent-a", 3000).containsEntry("agent-b", 3000);
        assertThat(byTunnel).containsEntry(b1, 1000).containsEntry(b2, 1000).containsEntry(b3, 1000);
    }

    @Test
    void anAgentsTunnelOnTheCallersEventLoopIsPreferredWhileAgentsStillAlternate() {
        StubTunnel a1 = new StubTunnel("agent-a", "loop.test");
        StubTunnel b1 = new StubTunnel("agent-b", "loop.test");
        StubTunnel b2 = new StubTunnel("agent-b", "loop.test");
        b2.onCallersLoop = true;
        registry.register(a1);
        registry.register(b1);
        registry.register(b2);

        Map<Tunnel, Integer> byTunnel = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            byTunnel.merge(pick("loop.test", "/"), 1, Integer::sum);
        }
        // agent-level round-robin is unchanged; within agent-b the same-loop tunnel takes every request
        assertThat(byTunnel).containsEntry(a1, 500).containsEntry(b2, 500).doesNotContainKey(b1);

        // a same-loop tunnel that cannot accept, or that refused this request, falls back to the others
        b2.full = true;
        assertThat(IntStream.range(0, 10).mapToObj(i -> pick("loop.test", "/"))).contains(b1).doesNotContain(b2);
        b2.full = false;
        RouteEntry<Tunnel> entry = registry.match("loop.test", "/");
        for (int i = 0; i < 10; i++) {
            assertThat(entry.pick(b2)).isNotSameAs(b2);
        }
    }

    @Test
    void drainingUnhealthyClosedAndFullTunnelsAreSkipped() {
        StubTunnel draining = new StubTunnel("a", "skip.test");
        StubTunnel unhealthy = new StubTunnel("b", "skip.test");
        StubTunnel closed = new StubTunnel("c", "skip.test");
        StubTunnel full = new StubTunnel("d", "skip.test");
        StubTunnel good = new StubTunnel("e", "skip.test");
        draining.draining = true;
        unhealthy.unhealthy.add(RouteClaim.host("skip.test"));
        closed.open = false;
        full.full = true;
        for (StubTunnel t : new StubTunnel[] {draining, unhealthy, closed, full, good}) {
            registry.register(t);
        }

        for (int i = 0; i < 20; i++) {
            assertThat(pick("skip.test", "/")).isSameAs(good);
        }
        good.draining = true;
        assertThat(pick("skip.test", "/")).isNull();
        assertThat(registry.match("skip.test", "/")).isNotNull();
    }

    @Test
    void unhealthyOnOneRouteStillServesTheOther() {
        StubTunnel tunnel = new StubTunnel("a", "one.test", "two.test");
        tunnel.unhealthy.add(RouteClaim.host("one.test"));
        registry.register(tunnel);

        assertThat(pick("one.test", "/")).isNull();
        assertThat(pick("two.test", "/")).isSameAs(tunnel);
    }

    @Test
    void excludedTunnelIsNotPickedAgain() {
        StubTunnel first = new StubTunnel("a", "retry.test");
        StubTunnel second = new StubTunnel("b", "retry.test");
        registry.register(first);
        registry.register(second);
        RouteEntry<Tunnel> entry = registry.match("retry.test", "/");

        for (int i = 0; i < 10; i++) {
            assertThat(entry.pick(first)).isSameAs(second);
        }
    }

    @Test
    void retryAfterARefusalGoesToAnotherAgentBeforeTheRefusingAgentsOtherTunnel() {
        StubTunnel refusing = new StubTunnel("draining", "retry2.test");
        StubTunnel sibling = new StubTunnel("draining", "retry2.test");
        StubTunnel other = new StubTunnel("other", "retry2.test");
        registry.register(refusing);
        registry.register(sibling);
        registry.register(other);
        RouteEntry<Tunnel> entry = registry.match("retry2.test", "/");

        for (int i = 0; i < 10; i++) {
            assertThat(entry.pick(refusing)).isSameAs(other);
        }
        registry.unregister(other);
        assertThat(registry.match("retry2.test", "/").pick(refusing)).isSameAs(sibling);
    }

    @Test
    void removedTunnelIsNeverPickedAndCountsFollow() {
        StubTunnel a = new StubTunnel("a", "gone.test", "*.gone.test");
        StubTunnel b = new StubTunnel("b", "gone.test");
        registry.register(a);
        registry.register(b);
        assertThat(registry.tunnelCount("gone.test")).isEqualTo(2);
        assertThat(registry.agentCount()).isEqualTo(2);
        assertThat(registry.routeCount()).isEqualTo(2);

        assertThat(registry.unregister(a)).isTrue();
        assertThat(registry.unregister(a)).isFalse();

        for (int i = 0; i < 10; i++) {
            assertThat(pick("gone.test", "/")).isSameAs(b);
        }
        assertThat(pick("x.gone.test", "/")).isNull();
        assertThat(registry.tunnelCount("gone.test")).isEqualTo(1);
        assertThat(registry.routeCount()).isEqualTo(1);
        registry.unregister(b);
        assertThat(pick("gone.test", "/")).isNull();
        assertThat(registry.match("gone.test", "/").tunnels()).as("vacated: 503, not 404").isEmpty();
        assertThat(registry.tunnelCount()).isZero();
    }

    @Test
    void hostWhoseAgentsAllLeftStillMatchesWithNoTunnelsSoTheAnswerIs503() {
        StubTunnel only = new StubTunnel("only", "gone.example.com");
        registry.register(only);
        registry.unregister(only);

        RouteEntry<Tunnel> entry = registry.match("gone.example.com", "/");
        assertThat(entry).as("a known host, temporarily without agents").isNotNull();
        assertThat(entry.tunnels()).isEmpty();
        assertThat(registry.match("never.example.com", "/")).isNull();
        assertThat(registry.tunnelCount("gone.example.com")).isZero();
    }

    @Test
    void aLiveRouteWinsOverAVacatedOneAndAReturningAgentServesAgain() {
        StubTunnel exact = new StubTunnel("exact", "app.example.com");
        StubTunnel wildcard = new StubTunnel("wild", "*.example.com");
        registry.register(exact);
        registry.register(wildcard);
        registry.unregister(exact);

        assertThat(pick("app.example.com", "/")).as("the wildcard still serves it").isSameAs(wildcard);

        StubTunnel back = new StubTunnel("back", "app.example.com");
        registry.register(back);
        assertThat(pick("app.example.com", "/")).isSameAs(back);
    }

    @Test
    void vacatedHostAnswers503ForTheTtlThenIsForgotten() {
        AtomicLong now = new AtomicLong();
        AgentRegistry timed = new AgentRegistry(now::get);
        StubTunnel leaving = new StubTunnel("leaving", "old.test");
        timed.register(leaving);
        timed.unregister(leaving);

        now.addAndGet(AgentRegistry.VACATED_ROUTE_TTL.toNanos());
        assertThat(timed.match("old.test", "/")).as("still within the TTL").isNotNull();
        now.addAndGet(1);
        assertThat(timed.match("old.test", "/")).as("past the TTL: 404").isNull();

        // the next change sweeps it out; a route vacated later keeps its own TTL
        StubTunnel other = new StubTunnel("other", "new.test");
        timed.register(other);
        timed.unregister(other);
        assertThat(timed.match("new.test", "/")).isNotNull();
        assertThat(timed.match("old.test", "/")).isNull();
    }

    @Test
    void aRouteVacatedAgainRestartsItsTtl() {
        AtomicLong now = new AtomicLong();
        AgentRegistry timed = new AgentRegistry(now::get);
        StubTunnel first = new StubTunnel("a", "flap.test");
        timed.register(first);
        timed.unregister(first);
        now.addAndGet(AgentRegistry.VACATED_ROUTE_TTL.toNanos() / 2);
        StubTunnel second = new StubTunnel("a", "flap.test");
        timed.register(second);
        assertThat(timed.match("flap.test", "/").tunnels()).containsExactly(second);
        timed.unregister(second);

        now.addAndGet(AgentRegistry.VACATED_ROUTE_TTL.toNanos() * 3 / 4);
        StubTunnel unrelated = new StubTunnel("b", "elsewhere.test");
        timed.register(unrelated);
        assertThat(timed.match("flap.test", "/")).as("vacated again 3/4 of a TTL ago").isNotNull();
        assertThat(timed.match("flap.test", "/").tunnels()).isEmpty();
    }

    @Test
    void countsFollowIdentityAgentAndRoute() {
        StubTunnel a1 = new StubTunnel("agent-a", "one.test", "two.test");
        StubTunnel a2 = new StubTunnel("agent-a", "one.test");
        StubTunnel b1 = new StubTunnel("agent-b", "*.one.test");
        registry.register(a1);
        registry.register(a2);
        registry.register(b1);
        assertThat(registry.identityTunnelCount("agent-a")).isEqualTo(2);
        assertThat(registry.identityTunnelCount("agent-b")).isEqualTo(1);
        assertThat(registry.identityTunnelCount("nobody")).isZero();
        assertThat(registry.agentCount()).isEqualTo(2);
        assertThat(registry.tunnelCount()).isEqualTo(3);
        assertThat(registry.routeCount()).isEqualTo(3);
        assertThat(registry.tunnels()).containsExactly(a1, a2, b1);
        assertThat(registry.tunnelCount("one.test")).isEqualTo(2);
        assertThat(registry.tunnelCount("x.one.test")).isEqualTo(1);

        registry.unregister(a1);
        assertThat(registry.identityTunnelCount("agent-a")).isEqualTo(1);
        assertThat(registry.routeCount()).as("two.test left with a1").isEqualTo(2);
        assertThat(registry.tunnels()).containsExactly(a2, b1);
        assertThat(pick("two.test", "/")).isNull();
        registry.unregister(a2);
        assertThat(registry.identityTunnelCount("agent-a")).isZero();
        assertThat(registry.agentCount()).isEqualTo(1);
        assertThat(registry.byAgent()).containsOnlyKeys("agent-b");
    }

    @Test
    void tunnelsOfARouteStayInRegistrationOrderAcrossChurn() {
        StubTunnel a = new StubTunnel("a", "order.test");
        StubTunnel b = new StubTunnel("b", "order.test");
        StubTunnel c = new StubTunnel("c", "order.test");
        registry.register(a);
        registry.register(b);
        registry.register(c);
        registry.unregister(b);
        StubTunnel d = new StubTunnel("d", "order.test");
        registry.register(d);

        assertThat(registry.match("order.test", "/").tunnels()).containsExactly(a, c, d);
    }

    @Test
    void wildcardsMatchAtEveryDepthAndNeverTheBareSuffixOrAnIpLiteral() {
        StubTunnel shallow = new StubTunnel("shallow", "*.test");
        StubTunnel deep = new StubTunnel("deep", "*.b.c.test");
        registry.register(shallow);
        registry.register(deep);

        assertThat(pick("a.b.c.test", "/")).isSameAs(deep);
        assertThat(pick("x.a.b.c.test", "/")).isSameAs(deep);
        assertThat(pick("b.c.test", "/")).isSameAs(shallow);
        assertThat(pick("c.test", "/")).isSameAs(shallow);
        assertThat(pick("test", "/")).isNull();
        assertThat(pick("[::1]", "/")).isNull();
        assertThat(pick("127.0.0.1", "/")).isNull();
        assertThat(registry.match("x.a.b.c.test", "/").route()).isEqualTo(RouteClaim.host("*.b.c.test"));
    }

    /**
     * Registration touches only the newcomer's routes: 10,000 agents, one route each, join and leave
     * in about half a second; rebuilding the whole table on every change took 87 s to register them
     * and as long again to remove them (measured on the 2-core bench machine).
     */
    @Test
    void registeringManyAgentsCostsTheSameForTheLastAsForTheFirst() {
        int count = 10_000;
        List<StubTunnel> agents = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            agents.add(new StubTunnel("agent-" + i, "idle-" + i + ".bench.test"));
        }
        long start = System.nanoTime();
        agents.forEach(registry::register);
        assertThat(registry.tunnelCount()).isEqualTo(count);
        assertThat(registry.identityTunnelCount("agent-" + (count - 1))).isEqualTo(1);
        assertThat(pick("idle-1234.bench.test", "/")).isSameAs(agents.get(1234));
        agents.forEach(registry::unregister);
        long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();

        assertThat(registry.tunnelCount()).isZero();
        assertThat(millis).as("10,000 registrations and removals (ms)").isLessThan(5_000);
    }

    @Test
    void routingNeverWaitsForARegistrationInProgress() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // the registry reads its clock while it holds its write lock: on the writer thread it stalls there
        AgentRegistry stalling = new AgentRegistry(() -> {
            if (Thread.currentThread().getName().equals("stalled-registration")) {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return System.nanoTime();
        });
        StubTunnel serving = new StubTunnel("serving", "busy.test");
        stalling.register(serving);
        Thread writer = new Thread(() -> stalling.register(new StubTunnel("newcomer", "busy.test")),
                "stalled-registration");
        writer.start();
        CompletableFuture<Boolean> removal = null;
        try {
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
            // another change waits for the lock the stalled registration holds ...
            removal = CompletableFuture.supplyAsync(() -> stalling.unregister(serving));
            // ... while routing goes on from the last published table
            List<Tunnel> picks = CompletableFuture.supplyAsync(() -> IntStream.range(0, 1000)
                            .mapToObj(i -> stalling.match("busy.test", "/").pick(null))
                            .toList())
                    .get(10, TimeUnit.SECONDS);
            assertThat(picks).hasSize(1000).containsOnly(serving);
            assertThat(removal).as("the removal waits for the write lock").isNotDone();
        } finally {
            release.countDown();
            writer.join(10_000);
        }
        assertThat(removal.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(stalling.tunnelCount("busy.test")).isEqualTo(1);
        assertThat(stalling.match("busy.test", "/").pick(null).agentId()).isEqualTo("newcomer");
    }
}
