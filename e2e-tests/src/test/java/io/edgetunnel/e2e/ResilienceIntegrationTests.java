package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.TcpRelay;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.IOException;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
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
 * Faults and restarts under load, through a real ingress, real agents and real local apps: graceful
 * agent and ingress restarts lose no request, a cut tunnel aborts its streams and traffic moves to
 * the surviving agent, hung local apps and slowloris clients are bounded, aborted clients free their
 * streams on both sides.
 */
@ExtendWith(NoLeaks.class)
class ResilienceIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Duration HEARTBEAT = Duration.ofSeconds(1);

    private static IngressNode ingress;
    private static UpstreamApp appA;
    private static UpstreamApp appB;

    @BeforeAll
    static void start() {
        appA = new UpstreamApp("a");
        appB = new UpstreamApp("b");
        ingress = IngressNode.start(
                "ingress.proxy.response-timeout=3s",
                "ingress.tunnel.heartbeat-interval=" + HEARTBEAT.toMillis() + "ms");
    }

    @AfterAll
    static void stop() {
        closeAll(ingress, appA, appB);
    }

    // ------------------------------------------------------------------ balancing per agent

    @Test
    void agentWithTwoTunnelsGetsNoMoreTrafficThanAgentWithOne() {
        try (AgentNode two = AgentNode.start(ingress, "fair-two", AgentNode.route("fair.example", appA.url()),
                        "agent.tunnel-count=2");
                AgentNode one = AgentNode.start(ingress, "fair-one", AgentNode.route("fair.example", appB.url()),
                        "agent.tunnel-count=1")) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("fair.example") == 3);
            assertThat(two.tunnels().connectedTunnels()).isEqualTo(2);

            Map<String, Long> counts = Flux.range(0, 600)
                    .flatMap(i -> PublicClient.to(ingress, "fair.example").get().uri("/name")
                            .responseSingle((res, body) -> body.asString()), 4)
                    .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()))
                    .block(TIMEOUT);

            assertThat(counts).containsOnlyKeys("a", "b");
            assertThat(counts.get("a")).isBetween(240L, 360L);
            assertThat(counts.get("b")).isBetween(240L, 360L);
        }
    }

    // ------------------------------------------------------------------ graceful restarts

    @Test
    void gracefulAgentRestartUnderContinuousLoadFailsNoRequest() {
        String host = "rolling.example";
        AgentNode first = AgentNode.start(ingress, "rolling-1", AgentNode.route(host, appA.url()), "agent.tunnel-count=2");
        AgentNode second = AgentNode.start(ingress, "rolling-2", AgentNode.route(host, appB.url()), "agent.tunnel-count=2");
        AgentNode restarted = null;
        try {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 4);
            Load load = Load.start(ingress, host, 4);

            await().atMost(TIMEOUT).until(() -> load.ok.get() >= 50);
            first.close(); // graceful: Drain, in-flight streams finish, then the tunnels close
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 2);
            long okWhileOne = load.ok.get();
            await().atMost(TIMEOUT).until(() -> load.ok.get() >= okWhileOne + 50);
            restarted = AgentNode.start(ingress, "rolling-1", AgentNode.route(host, appA.url()), "agent.tunnel-count=2");
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 4);
            long okAfter = load.ok.get();
            await().atMost(TIMEOUT).until(() -> load.ok.get() >= okAfter + 50);
            second.close();
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 2);
            long okEnd = load.ok.get();
            await().atMost(TIMEOUT).until(() -> load.ok.get() >= okEnd + 50);

            load.stop();
            assertThat(load.failures).as("failed requests during the rolling restart").isEmpty();
            assertThat(load.bodies).containsOnly("a", "b");
        } finally {
            closeAll(first, second, restarted);
        }
    }

    @Test
    void agentsComeBackAfterAnIngressRestartOnTheSamePortAndNoRequestReachesTheWrongHost() {
        IngressNode before = IngressNode.start("ingress.tunnel.heartbeat-interval=1s");
        int tunnelPort = before.tunnelPort();
        AgentNode agentA = null;
        AgentNode agentB = null;
        IngressNode after = null;
        try {
            agentA = AgentNode.start(before, "restart-a", AgentNode.route("ra.example", appA.url()), "agent.tunnel-count=2");
            agentB = AgentNode.start(before, "restart-b", AgentNode.route("rb.example", appB.url()));
            IngressNode first = before;
            await().atMost(TIMEOUT).until(() -> first.registry().tunnelCount("ra.example") == 2
                    && first.registry().tunnelCount("rb.example") == 1);
            assertThat(PublicClient.get(before, "ra.example", "/name").body()).isEqualTo("a");

            before.close(); // graceful: readiness down, Drain to every tunnel, then GoingAway
            after = startOnPort(tunnelPort);
            IngressNode second = after;
            long restartedAt = System.nanoTime();
            // agents back within the backoff cap (500 ms in AgentNode) plus a connect, with room for a loaded machine
            await().atMost(Duration.ofSeconds(30)).until(() -> second.registry().tunnelCount("ra.example") == 2
                    && second.registry().tunnelCount("rb.example") == 1);
            Duration back = Duration.ofNanos(System.nanoTime() - restartedAt);

            List<String> wrong = Flux.range(0, 200)
                    .flatMap(i -> {
                        boolean toA = i % 2 == 0;
                        String host = toA ? "ra.example" : "rb.example";
                        return PublicClient.to(second, host).get().uri("/name")
                                .responseSingle(PublicClient::reply)
                                .map(reply -> reply.status() == 200 && reply.body().equals(toA ? "a" : "b")
                                        ? ""
                                        : host + " -> " + reply.status() + " " + reply.body());
                    }, 8)
                    .filter(s -> !s.isEmpty())
                    .collectList()
                    .block(TIMEOUT);
            assertThat(wrong).isEmpty();
            assertThat(back).isLessThan(Duration.ofSeconds(30));
        } finally {
            closeAll(agentA, agentB, after, before);
        }
    }

    /** The old listener's port may linger for a moment; retry the bind briefly. */
    private static IngressNode startOnPort(int tunnelPort) {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                return IngressNode.start("ingress.tunnel.heartbeat-interval=1s", "ingress.tunnel.port=" + tunnelPort);
            } catch (RuntimeException e) {
                last = e;
                Mono.delay(Duration.ofMillis(250)).block();
            }
        }
        throw last;
    }

    // ------------------------------------------------------------------ faults

    @Test
    void tunnelCutMidDownloadAbortsTheResponseAndTrafficMovesToTheSurvivor() throws IOException {
        String host = "cut.example";
        try (TcpRelay relay = new TcpRelay(ingress.tunnelPort());
                AgentNode doomed = AgentNode.startAt("ws://127.0.0.1:" + relay.port() + "/tunnel", "cut-doomed",
                        AgentNode.route(host, appA.url()), "agent.reconnect.min-backoff=60s", "agent.reconnect.max-backoff=60s");
                AgentNode survivor = AgentNode.start(ingress, "cut-survivor", AgentNode.route(host, appB.url()))) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 2);

            // find a download served by the doomed agent: round robin alternates, so at most a few tries
            AtomicLong received = new AtomicLong();
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicInteger status = new AtomicInteger();
            Disposable download = null;
            for (int attempt = 0; attempt < 4 && download == null; attempt++) {
                int producedBefore = (int) appA.downloadBytesProduced.get();
                received.set(0);
                outcome.set(null);
                Disposable candidate = PublicClient.to(ingress, host).responseTimeout(TIMEOUT).get().uri("/download?mib=256")
                        .response((res, body) -> {
                            status.set(res.status().code());
                            return body.doOnNext(buf -> received.addAndGet(buf.readableBytes()));
                        })
                        .count()
                        .subscribe(n -> outcome.set("complete:" + received.get()), outcome::set);
                await().atMost(TIMEOUT).until(() -> received.get() > 1024 * 1024 || outcome.get() != null);
                if (appA.downloadBytesProduced.get() > producedBefore + 1024 * 1024) {
                    download = candidate;
                } else {
                    candidate.dispose();
                }
            }
            assertThat(download).as("a download served by the doomed agent").isNotNull();

            relay.cut();
            long cutAt = System.nanoTime();

            await().atMost(TIMEOUT).until(() -> outcome.get() != null);
            Object end = outcome.get();
            boolean aborted = end instanceof Throwable;
            assertThat(aborted || status.get() == 502)
                    .as("an aborted response or 502, not a clean truncated body: " + end + " after " + received.get() + " bytes")
                    .isTrue();

            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 1);
            Duration detected = Duration.ofNanos(System.nanoTime() - cutAt);
            for (int i = 0; i < 20; i++) {
                PublicClient.Reply reply = PublicClient.get(ingress, host, "/name");
                assertThat(reply.status()).isEqualTo(200);
                assertThat(reply.body()).isEqualTo("b");
            }
            // a cut socket is noticed at once; a silent one within the heartbeat's missed limit
            assertThat(detected).isLessThan(HEARTBEAT.multipliedBy(4));
            await().atMost(TIMEOUT).until(() -> ingress.gauge("tunnel.ingress.streams.active") == 0);
        }
    }

    @Test
    void localAppThatAcceptsButNeverAnswersGives504AndFreesTheStream() throws IOException {
        String host = "hung.example";
        try (ServerSocket hung = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                AgentNode agent = AgentNode.start(ingress, "hung", AgentNode.route(host, "http://127.0.0.1:" + hung.getLocalPort()))) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 1);

            PublicClient.Reply reply = PublicClient.get(ingress, host, "/never");

            assertThat(reply.status()).isEqualTo(504);
            await().atMost(TIMEOUT).until(() -> agent.tunnels().activeStreams() == 0
                    && ingress.gauge("tunnel.ingress.streams.active") == 0);
        }
    }

    @Test
    void slowlorisOnThePublicPortDoesNotBlockOtherClients() throws Exception {
        try (AgentNode agent = AgentNode.start(ingress, "loris", AgentNode.route("loris.example", appA.url()))) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("loris.example") == 1);
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> lorises = new CopyOnWriteArrayList<>();
            byte[] request = "GET /name HTTP/1.1\r\nHost: loris.example\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 8; i++) {
                Thread thread = new Thread(() -> {
                    try (Socket socket = new Socket("127.0.0.1", ingress.publicPort())) {
                        OutputStream out = socket.getOutputStream();
                        for (int b = 0; b < request.length && !stop.get(); b++) {
                            out.write(request[b]);
                            out.flush();
                            Thread.sleep(100); // the attacker's pace, not a wait for correctness
                        }
                    } catch (IOException | InterruptedException e) {
                        // the server may cut a slow client; that is fine
                    }
                }, "slowloris-" + i);
                thread.setDaemon(true);
                thread.start();
                lorises.add(thread);
            }
            try {
                long started = System.nanoTime();
                for (int i = 0; i < 20; i++) {
                    PublicClient.Reply reply = PublicClient.get(ingress, "loris.example", "/name");
                    assertThat(reply.status()).isEqualTo(200);
                    assertThat(reply.body()).isEqualTo("a");
                }
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
            } finally {
                stop.set(true);
                for (Thread thread : lorises) {
                    thread.join(10_000);
                }
            }
        }
    }

    @Test
    void thousandClientsAbortingMidResponseLeaveNoActiveStreams() {
        String host = "abort.example";
        try (AgentNode agent = AgentNode.start(ingress, "abort", AgentNode.route(host, appA.url()))) {
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount(host) == 1);
            Long aborted = Flux.range(0, 1000)
                    .flatMap(i -> {
                        AtomicLong received = new AtomicLong();
                        return PublicClient.to(ingress, host).get().uri("/download?mib=4")
                                .response((res, body) -> body.doOnNext(buf -> received.addAndGet(buf.readableBytes())))
                                .takeUntil(buf -> received.get() > 16 * 1024)
                                .count()
                                .onErrorReturn(-1L);
                    }, 50)
                    .count()
                    .block(Duration.ofMinutes(5));

            assertThat(aborted).isEqualTo(1000);
            await().atMost(TIMEOUT).until(() -> ingress.gauge("tunnel.ingress.streams.active") == 0
                    && agent.tunnels().activeStreams() == 0);
            assertThat(PublicClient.get(ingress, host, "/name").body()).isEqualTo("a");
        }
    }

    // ------------------------------------------------------------------ helpers

    private static void closeAll(AutoCloseable... closeables) {
        for (AutoCloseable closeable : closeables) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    /** Continuous GET /name requests with bounded concurrency, recording every failure. */
    private static final class Load {
        final AtomicLong ok = new AtomicLong();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        final java.util.Set<String> bodies = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final Disposable running;

        private Load(IngressNode ingress, String host, int concurrency) {
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

        static Load start(IngressNode ingress, String host, int concurrency) {
            return new Load(ingress, host, concurrency);
        }

        void stop() {
            running.dispose();
        }
    }
}
