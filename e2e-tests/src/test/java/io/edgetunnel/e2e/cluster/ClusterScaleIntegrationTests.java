package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;

/**
 * Three replicas, four agents with two tunnels each and five hosts, none of them on every replica:
 * ten thousand requests spread over the three public ports all reach the right app.
 */
@ExtendWith(NoLeaks.class)
class ClusterScaleIntegrationTests {

    private static final int HOSTS = 5;
    private static final int REQUESTS = 10_000;

    private static RedisServer redis;
    private static final List<UpstreamApp> apps = new ArrayList<>();
    private static final List<IngressNode> replicas = new ArrayList<>();
    private static final List<AgentNode> agents = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        RedisServer.assumeAvailable();
        redis = RedisServer.start();
        for (int h = 0; h < HOSTS; h++) {
            apps.add(new UpstreamApp(host(h)));
        }
        for (int r = 0; r < 3; r++) {
            replicas.add(IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "replica-" + r)));
        }
        // which agent serves which hosts, and the replica its tunnels land on: each host on one or two replicas
        int[][] hostsOf = {{0, 1}, {2, 3}, {4, 0}, {1, 2}};
        for (int a = 0; a < hostsOf.length; a++) {
            Map<String, String> routes = new LinkedHashMap<>();
            for (int h : hostsOf[a]) {
                routes.put(host(h), apps.get(h).url());
            }
            agents.add(AgentNode.start(replicas.get(a % 3), "agent-" + a, routes,
                    "agent.tunnel-count=2", "agent.spread.enabled=false"));
        }
        for (IngressNode replica : replicas) {
            for (int h = 0; h < HOSTS; h++) {
                String host = host(h);
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> PublicClient.get(replica, host, "/name").body().equals(host));
            }
        }
    }

    static String host(int h) {
        return "host-" + h + ".example.com";
    }

    @AfterAll
    static void stop() throws Exception {
        for (AgentNode agent : agents) {
            agent.close();
        }
        for (IngressNode replica : replicas) {
            replica.close();
        }
        for (UpstreamApp app : apps) {
            app.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void tenThousandRequestsOverThreeReplicasAllReachTheirHostsApp() {
        // the start-up probes are counted when their exchanges end, which can be after the client read
        // the answer: take the baseline once the counts stand still (a run under load counted 10,001)
        double[] last = {-1};
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(250)).until(() -> {
            double now = served("forwarded") + served("local");
            boolean settled = now == last[0];
            last[0] = now;
            return settled;
        });
        double forwardedBefore = served("forwarded");
        double localBefore = served("local");
        AtomicInteger ok = new AtomicInteger();
        Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
        Flux.range(0, REQUESTS)
                .flatMap(i -> {
                    IngressNode replica = replicas.get(i % 3);
                    String host = host((i / 3) % HOSTS);
                    return PublicClient.to(replica, host).get().uri("/name")
                            .responseSingle(PublicClient::reply)
                            .doOnNext(reply -> {
                                if (reply.status() == 200 && reply.body().equals(host)) {
                                    ok.incrementAndGet();
                                } else {
                                    failures.computeIfAbsent(reply.status() + " " + reply.body(), k -> new AtomicInteger())
                                            .incrementAndGet();
                                }
                            })
                            .onErrorResume(e -> {
                                failures.computeIfAbsent(e.toString(), k -> new AtomicInteger()).incrementAndGet();
                                return reactor.core.publisher.Mono.empty();
                            });
                }, 48)
                .blockLast(Duration.ofMinutes(5));
        // a replica counts a request once its exchange ended, which can be just after the client read
        // the last response: wait for the counts to catch up (a CI run read 9,999 of 10,000 at once)
        await().atMost(Duration.ofSeconds(30))
                .until(() -> served("forwarded") - forwardedBefore + served("local") - localBefore >= REQUESTS);
        double forwarded = served("forwarded") - forwardedBefore;
        double local = served("local") - localBefore;
        System.out.printf("cluster scale: %d ok of %d; forwarded fraction %.3f (%d forwarded, %d local)%n",
                ok.get(), REQUESTS, forwarded / (forwarded + local), (long) forwarded, (long) local);
        assertThat(failures).as("non-2xx or misrouted answers").isEmpty();
        assertThat(ok.get()).isEqualTo(REQUESTS);
        assertThat(forwarded + local).isEqualTo(REQUESTS);
        // every host is held by one or two of three replicas: part of the traffic must cross a hop, not all
        assertThat(forwarded).isPositive();
        assertThat(local).isPositive();
    }

    private static double served(String via) {
        double total = 0;
        for (IngressNode replica : replicas) {
            total += replica.meters().get("tunnel.ingress.cluster.requests").tag("via", via).counter().count();
        }
        return total;
    }
}
