package io.edgetunnel.ingress.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.support.StubTunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentRegistryTests {

    private final AgentRegistry registry = new AgentRegistry();

    private Tunnel pick(String host, String path) {
        RouteEntry entry = registry.match(host, path);
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
        RouteEntry entry = registry.match("retry.test", "/");

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
        RouteEntry entry = registry.match("retry2.test", "/");

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

        RouteEntry entry = registry.match("gone.example.com", "/");
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
}
