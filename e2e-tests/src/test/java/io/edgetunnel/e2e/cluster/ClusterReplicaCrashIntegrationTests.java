package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.FreePorts;
import io.edgetunnel.e2e.support.HaproxyBalancer;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;

/**
 * kill -9 of the replica that holds a host's only tunnel (a real process, its executable jar): the
 * agent re-dials through the balancer onto the surviving replica, and requests for the host are
 * served again within the agent's dead-peer detection plus one reconnect step; meanwhile every request
 * gets an answer (503 while no agent is there), none hangs.
 */
@ExtendWith(NoLeaks.class)
class ClusterReplicaCrashIntegrationTests {

    private static final Path INGRESS_JAR = Path.of("../ingress-service/target/ingress-service-0.1.0-SNAPSHOT-exec.jar");
    private static final String HOST = "crash.example.com";
    /** The tunnels' heartbeat interval here (three missed: dead), and the agent's largest reconnect step. */
    private static final Duration HEARTBEAT = Duration.ofSeconds(2);
    private static final Duration MAX_BACKOFF = Duration.ofMillis(500);

    @Test
    void killingTheReplicaThatHoldsAHostsOnlyTunnelCostsOneReconnectAndNoHangingRequest() throws Exception {
        RedisServer.assumeAvailable();
        HaproxyBalancer.assumeAvailable();
        assumeTrue(Files.isRegularFile(INGRESS_JAR), "no " + INGRESS_JAR + " (package ingress-service first): SKIPPED");
        try (RedisServer redis = RedisServer.start();
                HaproxyBalancer balancer = HaproxyBalancer.start(2, "/actuator/health/readiness");
                UpstreamApp app = new UpstreamApp("survivor");
                IngressNode survivor = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "survivor"))) {
            int[] ports = FreePorts.take(4);
            Process doomed = startProcess(redis, ports);
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> readiness(ports[1]) == 200);
                balancer.register(1, new HaproxyBalancer.Target(ports[0], ports[2], ports[1]));
                await().atMost(Duration.ofSeconds(30)).until(() -> balancer.up("tunnel", 1));
                // the agent's only tunnel lands on the doomed replica: the survivor is not in the balancer yet
                try (AgentNode agent = AgentNode.startAt(balancer.tunnelUri(), "crash-agent", AgentNode.route(HOST, app.url()),
                        "agent.tunnel-count=1",
                        "agent.reconnect.max-backoff=" + MAX_BACKOFF.toMillis() + "ms")) {
                    await().atMost(Duration.ofSeconds(30)).until(() -> status(survivor) == 200);
                    assertThat(survivor.registry().tunnelCount(HOST)).as("served by forwarding to the doomed replica").isZero();
                    balancer.register(2, new HaproxyBalancer.Target(survivor.publicPort(), survivor.tunnelPort(),
                            survivor.managementPort()));

                    doomed.destroyForcibly(); // SIGKILL: no drain, no goodbye in the directory
                    long killed = System.nanoTime();
                    doomed.waitFor();
                    AtomicInteger answered = new AtomicInteger();
                    List<Integer> statuses = new ArrayList<>();
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
                        int status = status(survivor);
                        answered.incrementAndGet();
                        statuses.add(status);
                        return status == 200;
                    });
                    Duration back = Duration.ofNanos(System.nanoTime() - killed);
                    System.out.printf("replica crash: served again after %d ms (%d requests meanwhile, statuses %s)%n",
                            back.toMillis(), answered.get(), statuses.stream().distinct().toList());
                    // every request got an answer, none hung (status() gives -1 on a 10 s timeout)
                    assertThat(statuses).doesNotContain(-1);
                    assertThat(statuses.subList(0, statuses.size() - 1)).allMatch(s -> s == 503 || s == 502);
                    assertThat(back).isLessThan(HEARTBEAT.multipliedBy(3).plus(MAX_BACKOFF).plus(Duration.ofSeconds(5)));
                    assertThat(survivor.registry().tunnelCount(HOST)).isEqualTo(1);
                }
            } finally {
                doomed.destroyForcibly();
            }
        }
    }

    private static Process startProcess(RedisServer redis, int[] ports) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-jar", INGRESS_JAR.toString(),
                "--server.port=" + ports[0], "--server.address=127.0.0.1",
                "--management.server.port=" + ports[1],
                "--ingress.tunnel.port=" + ports[2],
                "--ingress.auth.token=" + IngressNode.TOKEN,
                // a process: the test JVM's when-empty=allow does not reach it, and no profile refuses all
                "--ingress.policy.when-empty=allow",
                "--ingress.tunnel.heartbeat-interval=" + HEARTBEAT.toMillis() + "ms"));
        for (String property : ClusterForwardingIntegrationTests.clusterProperties(redis, "doomed")) {
            command.add("--" + property.replace("ingress.cluster.port=0", "ingress.cluster.port=" + ports[3]));
        }
        File log = Files.createTempFile("doomed-replica", ".log").toFile();
        log.deleteOnExit();
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }

    private static int status(IngressNode replica) {
        return PublicClient.to(replica, HOST).get().uri("/name")
                .responseSingle(PublicClient::reply)
                .map(PublicClient.Reply::status)
                .timeout(Duration.ofSeconds(10), Mono.just(-1))
                .block();
    }

    private static int readiness(int managementPort) {
        return reactor.netty.http.client.HttpClient.create().get()
                .uri("http://127.0.0.1:" + managementPort + "/actuator/health/readiness")
                .response().map(r -> r.status().code()).onErrorReturn(-1)
                .block(Duration.ofSeconds(10));
    }
}
