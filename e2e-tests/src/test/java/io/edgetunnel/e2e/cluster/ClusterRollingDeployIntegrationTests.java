package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.HaproxyBalancer;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.Payloads;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.e2e.support.WebSocketApp;
import io.edgetunnel.e2e.support.WsClient;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A rolling deploy as ECS does it, under load, through HAProxy standing in for the ALB: each replica
 * is replaced by starting a new one, registering it, deregistering the old one (the balancer drains it
 * and the replica, told by its deregistration watch, drains its agents), waiting out the delay, then
 * SIGTERM. Nothing may fail: no request, no download (checked by digest), no WebSocket left silent.
 */
@ExtendWith(NoLeaks.class)
class ClusterRollingDeployIntegrationTests {

    private static final String HOST = "app.example.com";
    private static final long DOWNLOAD_BYTES = 64L * 1024 * 1024;
    private static final int DOWNLOADS = 20;
    private static final int SOCKETS = 20;

    private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();

    @Test
    void replacingEveryReplicaOneByOneUnderLoadFailsNothing() throws Exception {
        RedisServer.assumeAvailable();
        HaproxyBalancer.assumeAvailable();
        List<AutoCloseable> resources = new ArrayList<>();
        try (RedisServer redis = RedisServer.start();
                HaproxyBalancer balancer = HaproxyBalancer.start(4, "/actuator/health/readiness");
                UpstreamApp app = new UpstreamApp("deployed");
                WebSocketApp sockets = new WebSocketApp()) {
            IngressNode[] slot = new IngressNode[5];
            slot[1] = replica(redis, balancer, 1);
            slot[2] = replica(redis, balancer, 2);
            Map<String, String> routes = new LinkedHashMap<>();
            routes.put(HOST, app.url());
            routes.put("127.0.0.1", sockets.url());
            AgentNode agent = AgentNode.startAt(balancer.tunnelUri(), "deployed-agent", routes, "agent.tunnel-count=2");
            resources.add(agent);
            // the agent's two tunnels spread over both replicas (locality): neither replica's loss takes the host down
            await().atMost(Duration.ofSeconds(60)).until(() -> agent.gauge("tunnel.agent.replicas") == 2);
            await().atMost(Duration.ofSeconds(30)).until(() -> get(balancer).status() == 200);

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger small = new AtomicInteger();
            long loadStarted = System.nanoTime();
            Disposable smallLoad = Flux.interval(Duration.ofMillis(3))
                    .onBackpressureDrop()
                    .takeWhile(tick -> running.get())
                    .flatMap(tick -> PublicClient.to(balancer.publicPort(), HOST).get().uri("/name")
                            .responseSingle(PublicClient::reply)
                            .doOnNext(reply -> {
                                if (reply.status() == 200 && reply.body().equals("deployed")) {
                                    small.incrementAndGet();
                                } else {
                                    fail("small request: " + reply.status() + " " + reply.body());
                                }
                            })
                            .onErrorResume(e -> {
                                fail("small request: " + e);
                                return Mono.empty();
                            }), 64)
                    .subscribe();
            String expected = Payloads.sha256(DOWNLOAD_BYTES, 0);
            AtomicInteger intact = new AtomicInteger();
            Disposable downloads = Flux.range(0, DOWNLOADS)
                    .flatMap(i -> PublicClient.to(balancer.publicPort(), HOST).get().uri("/bytes?size=" + DOWNLOAD_BYTES)
                            .response(PublicClient::digest)
                            .next()
                            .doOnNext(digest -> {
                                if (digest.status() == 200 && digest.length() == DOWNLOAD_BYTES
                                        && digest.sha256().equals(expected)) {
                                    intact.incrementAndGet();
                                } else {
                                    fail("download: " + digest);
                                }
                            })
                            .onErrorResume(e -> {
                                fail("download: " + e);
                                return Mono.empty();
                            }), DOWNLOADS)
                    .subscribe();
            List<Thread> talkers = new ArrayList<>();
            AtomicInteger echoes = new AtomicInteger();
            AtomicInteger goingAway = new AtomicInteger();
            for (int i = 0; i < SOCKETS; i++) {
                int id = i;
                Thread talker = new Thread(() -> talk(balancer.publicPort(), id, running, echoes, goingAway), "ws-" + i);
                talker.start();
                talkers.add(talker);
            }
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> small.get() > 200 && echoes.get() > SOCKETS);
                replace(redis, balancer, slot, 1, 3);
                await().atMost(Duration.ofSeconds(30)).until(() -> agent.gauge("tunnel.agent.replicas") == 2);
                replace(redis, balancer, slot, 2, 4);
                await().atMost(Duration.ofSeconds(30)).until(() -> agent.gauge("tunnel.agent.replicas") == 2);
                int before = small.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> small.get() > before + 200);
                await().atMost(Duration.ofMinutes(3)).until(downloads::isDisposed);
            } finally {
                running.set(false);
                smallLoad.dispose();
                downloads.dispose();
                for (Thread talker : talkers) {
                    talker.join(30_000);
                }
                resources.add(slot[3]);
                resources.add(slot[4]);
                for (AutoCloseable resource : resources) {
                    if (resource != null) {
                        resource.close();
                    }
                }
            }
            double seconds = (System.nanoTime() - loadStarted) / 1e9;
            System.out.printf("rolling deploy: %d small requests in %.1f s (%.0f/s), %d/%d downloads intact, %d echoes,"
                    + " %d sockets sent away with 1001%n", small.get(), seconds, small.get() / seconds, intact.get(), DOWNLOADS,
                    echoes.get(), goingAway.get());
            assertThat(failures).as("anything that failed during the deploy").isEmpty();
            assertThat(intact.get()).isEqualTo(DOWNLOADS);
            assertThat(goingAway.get()).as("sockets whose replica stopped were told so").isPositive();
        }
    }

    /** ECS's order: new task up and registered, old deregistered (drained), the delay, then SIGTERM. */
    private static void replace(RedisServer redis, HaproxyBalancer balancer, IngressNode[] slot, int old, int fresh) {
        slot[fresh] = replica(redis, balancer, fresh);
        balancer.drain(old);
        slot[old].context().getBean(TunnelServer.class).drain("deregistration began");
        // the deregistration delay: ends early once the target is unused (nothing in flight through the
        // balancer, no agent tunnel left), as the ALB's does; the test's delay is longer than the 35 s of
        // the template so that the downloads, slow on two shared cores, finish inside it
        await().atMost(Duration.ofSeconds(120)).until(() -> balancer.sessions("public", old) == 0
                && balancer.sessions("tunnel", old) == 0
                && slot[old].registry().tunnelCount() == 0
                && slot[old].gauge("tunnel.ingress.streams.active") == 0);
        balancer.maint(old);
        slot[old].close();
        slot[old] = null;
    }

    private static IngressNode replica(RedisServer redis, HaproxyBalancer balancer, int slot) {
        IngressNode replica = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "deploy-" + slot));
        await().atMost(Duration.ofSeconds(30)).until(() -> replica.ready());
        balancer.register(slot, new HaproxyBalancer.Target(replica.publicPort(), replica.tunnelPort(), replica.managementPort()));
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.up("public", slot) && balancer.up("tunnel", slot));
        return replica;
    }

    private static PublicClient.Reply get(HaproxyBalancer balancer) {
        return PublicClient.to(balancer.publicPort(), HOST).get().uri("/name")
                .responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
    }

    /** One socket's life: an echo every 100 ms; a 1001 means reconnect through the balancer, anything else fails. */
    private void talk(int port, int id, AtomicBoolean running, AtomicInteger echoes, AtomicInteger goingAway) {
        WsClient ws = null;
        int sent = 0;
        try {
            while (running.get()) {
                if (ws == null) {
                    ws = WsClient.connect(port, "/echo").get();
                }
                String text = "socket-" + id + "-" + sent++;
                try {
                    ws.sendText(text);
                } catch (RuntimeException e) {
                    // the close may be on its way: judged below
                }
                WsClient.Message reply = ws.pollMessage(15_000);
                if (reply != null && reply.string().equals(text)) {
                    echoes.incrementAndGet();
                    Thread.sleep(100); // pacing, not synchronisation
                    continue;
                }
                WsClient.Close close = ws.pollClose();
                if (close != null && close.code() == 1001) {
                    goingAway.incrementAndGet();
                    ws.close();
                    ws = null;
                    continue;
                }
                fail("websocket " + id + ": " + (reply != null ? "wrong echo " + reply.string()
                        : close != null ? "closed " + close.code() + " " + close.reason() : "silent for 15 s"));
                ws.close();
                ws = null;
            }
        } catch (Exception e) {
            fail("websocket " + id + ": " + e);
        } finally {
            if (ws != null) {
                ws.close();
            }
        }
    }

    private void fail(String what) {
        failures.computeIfAbsent(what.length() > 200 ? what.substring(0, 200) : what, k -> new AtomicInteger())
                .incrementAndGet();
    }
}
