package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What a cluster does when things go wrong: Redis dies and returns under load, the directory names a
 * holder that holds nothing or cannot be reached, a host's last agent leaves.
 */
@ExtendWith(NoLeaks.class)
class ClusterFaultIntegrationTests {

    private static RedisServer redis;
    private static UpstreamApp appA;
    private static UpstreamApp appB;
    private static IngressNode a;
    private static IngressNode b;
    private static AgentNode agentA;
    private static AgentNode agentB;

    @BeforeAll
    static void start() throws Exception {
        RedisServer.assumeAvailable();
        redis = RedisServer.start();
        appA = new UpstreamApp("host-a");
        appB = new UpstreamApp("host-b");
        a = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "fault-a"));
        b = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "fault-b"));
        agentA = AgentNode.start(a, "agent-a", AgentNode.route("a.example.com", appA.url()));
        agentB = AgentNode.start(b, "agent-b", AgentNode.route("b.example.com", appB.url()));
        await().atMost(Duration.ofSeconds(30)).until(() -> PublicClient.get(a, "b.example.com", "/name").status() == 200
                && PublicClient.get(b, "a.example.com", "/name").status() == 200);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {agentA, agentB, a, b, appA, appB, redis}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    @Test
    void redisKilledAndRestartedUnderLoadFailsNoRequestAndTheViewsConvergeAfterwards() throws Exception {
        Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
        AtomicInteger served = new AtomicInteger();
        AtomicBoolean loading = new AtomicBoolean(true);
        Disposable load = Flux.range(0, Integer.MAX_VALUE)
                .takeWhile(i -> loading.get())
                .concatMap(i -> Flux.merge(
                        call(a, "a.example.com", "host-a", failures, served),
                        call(b, "b.example.com", "host-b", failures, served),
                        call(a, "b.example.com", "host-b", failures, served),
                        call(b, "a.example.com", "host-a", failures, served)), 1)
                .subscribe();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> served.get() > 200);
            redis.kill();
            await().atMost(Duration.ofSeconds(30)).until(() -> a.gauge("tunnel.ingress.cluster.degraded") == 1
                    && b.gauge("tunnel.ingress.cluster.degraded") == 1);
            int atOutage = served.get();
            // an agent that arrives while Redis is away is served locally at once, elsewhere once Redis is back
            try (UpstreamApp appC = new UpstreamApp("host-c");
                    AgentNode agentC = AgentNode.start(a, "agent-c", AgentNode.route("c.example.com", appC.url()))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> PublicClient.get(a, "c.example.com", "/name").status() == 200);
                await().atMost(Duration.ofSeconds(30)).until(() -> served.get() > atOutage + 200);
                assertThat(PublicClient.get(b, "c.example.com", "/name").status()).isEqualTo(404);
                redis.restart();
                long back = System.nanoTime();
                await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                        .until(() -> PublicClient.get(b, "c.example.com", "/name").status() == 200);
                System.out.printf("cluster fault: host-c reachable through the other replica %d ms after Redis returned%n",
                        Duration.ofNanos(System.nanoTime() - back).toMillis());
                await().atMost(Duration.ofSeconds(10)).until(() -> a.gauge("tunnel.ingress.cluster.degraded") == 0
                        && b.gauge("tunnel.ingress.cluster.degraded") == 0);
                // and the views stay converged: heartbeats flow again (pub/sub resumed), no replica expires
                int atReturn = served.get();
                long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
                while (System.nanoTime() < until) {
                    assertThat(a.gauge("tunnel.ingress.cluster.replicas")).isEqualTo(2);
                    assertThat(b.gauge("tunnel.ingress.cluster.replicas")).isEqualTo(2);
                    Thread.sleep(100); // sampling, not synchronisation
                }
                assertThat(served.get()).isGreaterThan(atReturn);
            }
        } finally {
            loading.set(false);
            load.dispose();
        }
        assertThat(failures).as("requests that failed while Redis was killed and restarted").isEmpty();
        assertThat(served.get()).isGreaterThan(400);
    }

    private static Mono<Void> call(IngressNode replica, String host, String expected, Map<String, AtomicInteger> failures,
            AtomicInteger served) {
        return PublicClient.to(replica, host).get().uri("/name")
                .responseSingle(PublicClient::reply)
                .doOnNext(reply -> {
                    if (reply.status() == 200 && reply.body().equals(expected)) {
                        served.incrementAndGet();
                    } else {
                        failures.computeIfAbsent(host + " via " + replica.publicPort() + ": " + reply.status(),
                                k -> new AtomicInteger()).incrementAndGet();
                    }
                })
                .onErrorResume(e -> {
                    failures.computeIfAbsent(e.toString(), k -> new AtomicInteger()).incrementAndGet();
                    return Mono.empty();
                })
                .then();
    }

    @Test
    void aStaleHolderThatHoldsNothingCostsOneRetryNeverAFailedRequest() throws Exception {
        // a third replica, holding nothing: a directory entry names it as a holder of a's host too
        try (IngressNode c = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "fault-c"))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> PublicClient.get(c, "a.example.com", "/name").status() == 200);
            Disposable ghost = keepPublishing("ghost-of-c", "127.0.0.1", c.clusterPort(), "a.example.com");
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsListing(b).contains("ghost-of-c"));
                for (int i = 0; i < 20; i++) {
                    PublicClient.Reply reply = PublicClient.get(b, "a.example.com", "/name");
                    assertThat(reply.status()).isEqualTo(200);
                    assertThat(reply.body()).isEqualTo("host-a");
                }
                assertThat(tunnelsListing(b)).as("the stale holder was in view all along").contains("ghost-of-c");
            } finally {
                ghost.dispose();
            }

        }
        // and when the stale holder is the only one, the answer is the ordinary 503 with Retry-After
        Disposable only = keepPublishing("ghost-only", "127.0.0.1", b.clusterPort(), "ghost.example.com");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsListing(a).contains("ghost.example.com"));
            PublicClient.Reply ghost = PublicClient.get(a, "ghost.example.com", "/name");
            assertThat(ghost.status()).isEqualTo(503);
            assertThat(ghost.headers().get("Retry-After")).isNotBlank();
            assertThat(tunnelsListing(a)).as("answered by the stale holder, not as a vacated route").contains("ghost-only");
        } finally {
            only.dispose();
        }
    }

    @Test
    void aRequestForwardedInAMoreThanOneHopLoopIsRefused() throws Exception {
        // an entry naming a's own cluster port under another id: a would forward to itself, and refuses it
        Disposable loop = keepPublishing("ghost-of-a", "127.0.0.1", a.clusterPort(), "loop.example.com");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsListing(a).contains("loop.example.com"));
            loopBack();
        } finally {
            loop.dispose();
        }
    }

    private static void loopBack() {
        PublicClient.Reply reply = PublicClient.get(a, "loop.example.com", "/name");
        // the cluster port's 401 never reaches a client: the entry names no replica that would take the
        // link (the link is signed for "ghost-of-a", and the replica there is a), so it holds nothing
        assertThat(reply.status()).isEqualTo(503);
        assertThat(reply.body()).doesNotContain("signature").doesNotContain("itself");
        assertThat(a.meters().get("tunnel.ingress.cluster.hops.rejected").counter().count()).isPositive();
    }

    @Test
    void aHolderThatRefusesConnectionsIsSkippedForAnotherHolder() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        Disposable dead = keepPublishing("dead-replica", "127.0.0.1", closed, "a.example.com");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsListing(b).contains("dead-replica"));
            for (int i = 0; i < 20; i++) {
                PublicClient.Reply reply = PublicClient.get(b, "a.example.com", "/name");
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.body()).isEqualTo("host-a");
            }
            assertThat(tunnelsListing(b)).contains("dead-replica");
        } finally {
            dead.dispose();
        }
    }

    @Test
    void aHolderThatClosesTheLinkUpgradeIsSkippedForAnotherHolderEvenForABody() throws Exception {
        // a peer link that cannot be dialled carried nothing: every request goes to another holder
        AtomicInteger slammed = new AtomicInteger();
        try (ClosingHolder slammer = ClosingHolder.start(slammed)) {
            Disposable ghost = keepPublishing("slamming-replica", "127.0.0.1", slammer.port(), "a.example.com");
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> tunnelsListing(b).contains("slamming-replica"));
                for (int i = 0; i < 10; i++) {
                    PublicClient.Reply reply = PublicClient.get(b, "a.example.com", "/name");
                    assertThat(reply.status()).as("GET %d", i).isEqualTo(200);
                    assertThat(reply.body()).isEqualTo("host-a");
                    PublicClient.Reply post = PublicClient.to(b, "a.example.com").post().uri("/echo")
                            .send(reactor.netty.ByteBufFlux.fromString(Mono.just("body-" + i)))
                            .responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
                    assertThat(post.status()).as("POST %d", i).isEqualTo(200);
                    assertThat(post.body()).isEqualTo("body-" + i);
                }
                assertThat(slammed.get()).as("link upgrades the closing holder took and dropped").isPositive();
            } finally {
                ghost.dispose();
            }
        }
    }

    @Test
    void aHostWhoseLastAgentLeftAnswers503OnEveryReplicaNot404() throws Exception {
        try (UpstreamApp app = new UpstreamApp("leaving")) {
            AgentNode leaving = AgentNode.start(a, "agent-leaving", AgentNode.route("leaving.example.com", app.url()));
            await().atMost(Duration.ofSeconds(30)).until(() -> PublicClient.get(b, "leaving.example.com", "/name").status() == 200);
            leaving.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> PublicClient.get(b, "leaving.example.com", "/name").status() == 503);
            assertThat(PublicClient.get(a, "leaving.example.com", "/name").status()).isEqualTo(503);
        }
    }

    @Test
    void aReplicaWhoseRedisIsDownAtStartStartsServesItsOwnAgentsAndJoinsWhenRedisComes() throws Exception {
        RedisServer late = RedisServer.start();
        int port = late.port();
        late.kill();
        String[] properties = ClusterForwardingIntegrationTests.clusterProperties(redis, "late-redis");
        for (int i = 0; i < properties.length; i++) {
            if (properties[i].startsWith("ingress.cluster.redis-url=")) {
                properties[i] = "ingress.cluster.redis-url=redis://127.0.0.1:" + port;
            }
        }
        try (IngressNode alone = IngressNode.start(properties);
                UpstreamApp app = new UpstreamApp("alone");
                AgentNode agent = AgentNode.start(alone, "agent-alone", AgentNode.route("alone.example.com", app.url()))) {
            // ready after a few heartbeats without a directory, serving its own agent, and saying it is degraded
            await().atMost(Duration.ofSeconds(30)).until(alone::ready);
            await().atMost(Duration.ofSeconds(30)).until(() -> PublicClient.get(alone, "alone.example.com", "/name").status() == 200);
            assertThat(alone.gauge("tunnel.ingress.cluster.degraded")).isEqualTo(1);
            assertThat(PublicClient.get(alone, "a.example.com", "/name").status()).isEqualTo(404);
            // Redis appears: the replica publishes and is no longer degraded
            late.restart();
            await().atMost(Duration.ofSeconds(10)).until(() -> alone.gauge("tunnel.ingress.cluster.degraded") == 0);
            assertThat(late.command("EXISTS", "{edgetunnel}:replica:late-redis")).isEqualTo(":1");
        } finally {
            late.close();
        }
    }

    private static Disposable keepPublishing(String id, String address, int port, String route) {
        return DirectoryEntries.keepPublishing(redis, id, address, port, route);
    }

    static String tunnelsListing(IngressNode replica) {
        return reactor.netty.http.client.HttpClient.create().get()
                .uri("http://127.0.0.1:" + replica.managementPort() + "/actuator/tunnels")
                .responseContent().aggregate().asString().block(Duration.ofSeconds(10));
    }
}
