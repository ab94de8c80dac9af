package io.edgetunnel.ingress.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The in-memory view of the other replicas: holders per route, round-robin, expiry and the 503 grace. */
class RemoteRoutesTests {

    private static final long GRACE = Duration.ofMinutes(10).toNanos();
    private static final long TTL = Duration.ofSeconds(6).toNanos();

    private final RemoteRoutes routes = new RemoteRoutes(GRACE);

    private static long versions;

    private static ReplicaEntry entry(String id, int port, String... routes) {
        return new ReplicaEntry(id, "10.0.0.1", port, List.of(routes), false, false, ++versions);
    }

    @Test
    void aRouteHeldByTwoReplicasAlternatesBetweenThem() {
        routes.apply(entry("b", 8083, "app.example.com"), 0);
        routes.apply(entry("c", 8084, "app.example.com", "*.example.com/api"), 0);
        RouteEntry<Tunnel> app = routes.match("app.example.com", "/");
        Set<String> picked = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            picked.add(((RemoteReplica) app.pick(null)).id());
        }
        assertThat(picked).containsExactlyInAnyOrder("b", "c");
        assertThat(routes.match("x.example.com", "/api/v1").route().toString()).isEqualTo("*.example.com/api");
        assertThat(routes.match("x.example.com", "/other")).isNull();
        assertThat(routes.replicaCount()).isEqualTo(2);
    }

    @Test
    void aRetryNeverPicksTheHolderThatJustFailed() {
        routes.apply(entry("b", 8083, "app.example.com"), 0);
        routes.apply(entry("c", 8084, "app.example.com"), 0);
        RouteEntry<Tunnel> app = routes.match("app.example.com", "/");
        Tunnel first = app.pick(null);
        for (int i = 0; i < 4; i++) {
            assertThat(app.pick(first)).isNotSameAs(first);
        }
    }

    @Test
    void aDrainingOrDepartedReplicaHoldsNothingAndItsHostsAnswer503ForTheGrace() {
        routes.apply(entry("b", 8083, "app.example.com", "other.example.com"), 0);
        routes.apply(new ReplicaEntry("b", "10.0.0.1", 8083, List.of("app.example.com"), true, false, ++versions), 1);
        assertThat(routes.match("app.example.com", "/")).isNull();
        assertThat(routes.recentlyVacated("app.example.com", "/", 2)).isTrue();
        routes.apply(ReplicaEntry.goneEntry("b", ++versions), 3);
        assertThat(routes.replicaCount()).isZero();
        assertThat(routes.recentlyVacated("other.example.com", "/", 4)).isTrue();
        assertThat(routes.recentlyVacated("other.example.com", "/", 4 + GRACE + 1)).isFalse();
    }

    @Test
    void aReplicaThatStopsPublishingExpiresUnlessTheDirectoryItselfWasAway() {
        routes.apply(entry("b", 8083, "app.example.com"), 0);
        assertThat(routes.expire(TTL, TTL)).isEmpty();
        routes.touchAll(TTL * 5);
        assertThat(routes.expire(TTL * 5 + TTL, TTL)).isEmpty();
        assertThat(routes.expire(TTL * 5 + TTL + 1, TTL)).containsExactly("b");
        assertThat(routes.match("app.example.com", "/")).isNull();
        assertThat(routes.recentlyVacated("app.example.com", "/", TTL * 7)).isTrue();
    }

    @Test
    void aReplicaBackAtAnotherAddressIsANewHolder() {
        routes.apply(entry("b", 8083, "app.example.com"), 0);
        RemoteReplica before = (RemoteReplica) routes.match("app.example.com", "/").pick(null);
        routes.apply(entry("b", 9999, "app.example.com"), 1);
        RemoteReplica after = (RemoteReplica) routes.match("app.example.com", "/").pick(null);
        assertThat(after).isNotSameAs(before);
        assertThat(after.baseUri()).isEqualTo("http://10.0.0.1:9999");
        assertThat(routes.match("app.example.com", "/").tunnels()).hasSize(1);
    }

    @Test
    void anOlderEntryNeverRollsTheViewBack() {
        ReplicaEntry old = entry("b", 8083, "app.example.com");
        ReplicaEntry newer = entry("b", 8083, "app.example.com", "new.example.com");
        routes.apply(newer, 0);
        routes.apply(old, 1);
        assertThat(routes.match("new.example.com", "/")).isNotNull();
        routes.apply(ReplicaEntry.goneEntry("b", old.version()), 2);
        assertThat(routes.replicaCount()).as("a stale goodbye is ignored too").isEqualTo(1);
    }

    @Test
    void entriesThatDoNotParseAreSkippedNotFatal() {
        routes.apply(entry("b", 8083, "not a host!", "ok.example.com"), 0);
        assertThat(routes.match("ok.example.com", "/")).isNotNull();
    }
}
