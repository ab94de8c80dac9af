package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.LocalTcpServer;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.ingress.cluster.PeerLink;
import io.edgetunnel.ingress.cluster.PeerLinks;
import io.edgetunnel.ingress.cluster.RemoteReplica;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.testsupport.NoLeaks;
import io.netty.util.concurrent.EventExecutor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.http.client.ReactorResourceFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The peer link between two replicas sharing a real Redis: a TCP route's connection reaching the
 * replica without the agent crosses to the holder on the link (it used to be closed at once), HTTP
 * requests ride the same link, the loss of the link resets what it carried, and the link's upgrade is
 * refused unless a replica signed it.
 */
@ExtendWith(NoLeaks.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterPeerLinkIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String LINK_TARGET = "/_edgetunnel/link?window=262144&frame=262144&streams=16&heartbeat=20000";

    private static RedisServer redis;
    private static UpstreamApp app;
    private static LocalTcpServer echo;
    private static IngressNode holder;
    private static IngressNode other;
    private static AgentNode agent;

    @BeforeAll
    static void start() {
        RedisServer.assumeAvailable();
        redis = RedisServer.start();
        app = new UpstreamApp("held");
        echo = LocalTcpServer.echo();
        holder = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "link-a",
                "ingress.tcp.address=127.0.0.1", "ingress.tcp.listeners=echo=0"));
        other = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "link-b",
                "ingress.tcp.address=127.0.0.1", "ingress.tcp.listeners=echo=0"));
        Map<String, String> routes = new LinkedHashMap<>(AgentNode.route("app.example.com", app.url()));
        agent = AgentNode.start(holder, "link-agent", routes,
                "agent.tcp-routes=echo=127.0.0.1:" + echo.port() + ";health-check.interval=200ms");
        await().atMost(TIMEOUT).until(() -> PublicClient.get(other, "app.example.com", "/name").status() == 200);
        // the directory reached the other replica: a connection there is no longer closed at once
        await().atMost(TIMEOUT).ignoreExceptions().until(() -> roundTrip("ready?").equals("ready?"));
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, other, holder, echo, app, redis}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    private static Socket connect(IngressNode node) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), node.context().getBean(TcpServers.class).port("echo"));
        socket.setSoTimeout((int) TIMEOUT.toMillis());
        return socket;
    }

    private static String roundTrip(String message) throws IOException {
        try (Socket socket = connect(other)) {
            socket.getOutputStream().write(message.getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            // the echo target answers EOF only after our FIN reached it, across both replicas
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    @Order(1)
    void aTcpConnectionToTheReplicaWithoutTheAgentCrossesTheLinkBothWaysWithItsFins() throws IOException {
        assertThat(roundTrip("hello across two replicas")).isEqualTo("hello across two replicas");
        assertThat(other.registry().tunnels()).isEmpty();
        assertThat(other.meters().get("tunnel.ingress.tcp.connections").tag("route", "echo").tag("outcome", "ok")
                .counter().count()).isPositive();
    }

    @Test
    @Order(2)
    void manyMegabytesCrossTheLinkIntactInBothDirectionsAtOnce() throws Exception {
        byte[] payload = new byte[8 * 1024 * 1024 + 13];
        new Random(17).nextBytes(payload);
        try (Socket socket = connect(other)) {
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    for (int offset = 0; offset < payload.length; offset += 64 * 1024) {
                        out.write(payload, offset, Math.min(64 * 1024, payload.length - offset));
                    }
                    socket.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = socket.getInputStream().readAllBytes();
            writing.join();
            assertThat(back.length).isEqualTo(payload.length);
            assertThat(MessageDigest.getInstance("SHA-256").digest(back))
                    .isEqualTo(MessageDigest.getInstance("SHA-256").digest(payload));
        }
    }

    @Test
    @Order(3)
    void aClientResetMidStreamEndsTheForwardedConnectionAndTheLinkKeepsServing() throws IOException {
        double before = resets();
        try (Socket socket = connect(other)) {
            socket.getOutputStream().write("half".getBytes(StandardCharsets.US_ASCII));
            byte[] got = socket.getInputStream().readNBytes(4);
            assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("half");
            socket.setSoLinger(true, 0); // close with a RST
        }
        await().atMost(TIMEOUT).until(() -> resets() > before);
        assertThat(roundTrip("still there")).isEqualTo("still there");
    }

    private static double resets() {
        var counter = other.meters().find("tunnel.ingress.tcp.connections").tag("route", "echo")
                .tag("outcome", "client_reset").counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    @Order(5)
    void forwardedHttpRequestsRideAtMostOneLinkPerEventLoop() {
        for (int i = 0; i < 20; i++) {
            assertThat(PublicClient.getOnFreshConnection(other, "app.example.com", "/name").body()).isEqualTo("held");
        }
        int loops = eventLoops().size();
        double senders = other.meters().get("tunnel.ingress.cluster.links").tag("end", "sender").gauge().value();
        assertThat(senders).isBetween(1.0, (double) loops);
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(
                holder.meters().get("tunnel.ingress.cluster.links").tag("end", "holder").gauge().value()).isEqualTo(senders));
    }

    @Test
    @Order(5)
    void eachEventLoopForwardsOnALinkOfItsOwnThread() {
        PeerLinks links = other.context().getBean(PeerLinks.class);
        RemoteReplica peer = (RemoteReplica) links.holders("app.example.com", "/name").tunnels().get(0);
        Set<PeerLink> seen = new HashSet<>();
        for (EventExecutor loop : eventLoops()) {
            PeerLink link = Mono.defer(() -> links.link(peer)).subscribeOn(Schedulers.fromExecutor(loop)).block(TIMEOUT);
            assertThat(link.eventLoop()).isSameAs(loop);
            seen.add(link);
        }
        assertThat(seen).hasSize(eventLoops().size());
    }

    private static List<EventExecutor> eventLoops() {
        List<EventExecutor> loops = new ArrayList<>();
        other.context().getBean(ReactorResourceFactory.class).getLoopResources().onClient(true).forEach(loops::add);
        return loops;
    }

    @Test
    @Order(4)
    void responseTrailersCrossTheLinkAsTheAgentSentThem() {
        String trailers = PublicClient.to(other, "app.example.com")
                .headers(h -> h.set("TE", "trailers"))
                .get()
                .uri("/trailers?parts=2")
                .response((response, body) -> body.asString(StandardCharsets.UTF_8)
                        .collectList()
                        .flatMap(chunks -> response.trailerHeaders()
                                .map(t -> String.join("", chunks) + "|" + t.get("x-checksum") + "|" + t.get("x-parts"))))
                .single()
                .block(TIMEOUT);
        assertThat(trailers).isEqualTo("part-0\npart-1\n|sum-2|2");
    }

    @Test
    @Order(6)
    void theLinkUpgradeIsRefusedUnlessAReplicaSignedItRecently() throws Exception {
        long now = System.currentTimeMillis();
        double rejectedBefore = holder.meters().get("tunnel.ingress.cluster.hops.rejected").counter().count();
        // the positive control: the same request, signed with the cluster secret for this holder, is upgraded
        String good = sign(ClusterForwardingIntegrationTests.SECRET, "probe", now, "link-a", "bm9uY2UtMTIz");
        assertThat(upgrade(good).status()).isEqualTo(101);

        Upgrade unsigned = upgrade(null);
        Upgrade forged = upgrade("v1 probe " + now + " bm9uY2U AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        Upgrade otherSecret = upgrade(sign("another-secret-of-at-least-32-characters!", "probe", now, "link-a", "b3RoZXI"));
        Upgrade stale = upgrade(sign(ClusterForwardingIntegrationTests.SECRET, "probe",
                now - Duration.ofMinutes(5).toMillis(), "link-a", "c3RhbGU"));
        Upgrade looped = upgrade(sign(ClusterForwardingIntegrationTests.SECRET, "link-a", now, "link-a", "bG9vcA"));
        // a captured upgrade, replayed within the clock window, and one signed for another replica
        Upgrade replayed = upgrade(good);
        Upgrade elsewhere = upgrade(sign(ClusterForwardingIntegrationTests.SECRET, "probe", now, "link-b", "ZWxzZQ"));
        for (Upgrade refused : new Upgrade[] {unsigned, forged, otherSecret, stale, looped, replayed, elsewhere}) {
            assertThat(refused.status()).isEqualTo(401);
            assertThat(refused.head()).containsIgnoringCase("X-Edge-Cluster-Refused: signature");
        }
        assertThat(holder.meters().get("tunnel.ingress.cluster.hops.rejected").counter().count())
                .isGreaterThanOrEqualTo(rejectedBefore + 7);
        // and nothing of that disturbed the link the replicas use
        assertThat(roundTrip("after the probes")).isEqualTo("after the probes");
    }

    @Test
    @Order(7)
    void losingTheLinkUnderAForwardedConnectionResetsTheClientAndTheNextConnectionDialsAnew() throws IOException {
        PeerLinks links = other.context().getBean(PeerLinks.class);
        try (Socket socket = connect(other)) {
            socket.getOutputStream().write("before".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(socket.getInputStream().readNBytes(6), StandardCharsets.US_ASCII)).isEqualTo("before");
            // closes every link this replica dialled, with this connection's stream on it
            links.stop();
            // a RST, never a clean FIN that would pass a truncated transfer off as complete
            assertThatThrownBy(() -> {
                while (socket.getInputStream().read() >= 0) {
                    // drain until the reset
                }
            }).isInstanceOf(SocketException.class);
        } finally {
            links.start();
        }
        await().atMost(TIMEOUT).until(() -> other.meters().get("tunnel.ingress.tcp.connections").tag("route", "echo")
                .tag("outcome", "tunnel_lost").counter().count() >= 1);
        assertThat(roundTrip("dialled again")).isEqualTo("dialled again");
    }

    private record Upgrade(int status, String head) {}

    private static Upgrade upgrade(String signature) throws IOException {
        int port = holder.clusterPort();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            String request = "GET " + LINK_TARGET + " HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + port + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + (signature == null ? "" : "X-Edge-Cluster-Hop: " + signature + "\r\n")
                    + "\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            StringBuilder head = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                head.append(line).append('\n');
            }
            return new Upgrade(Integer.parseInt(head.toString().split(" ")[1]), head.toString());
        }
    }

    /** A hop signature as docs/architecture.md describes it, over the link's upgrade. */
    private static String sign(String secret, String sender, long millis, String holderId, String nonce)
            throws Exception {
        String signed = "v1\n" + sender + "\n" + millis + "\n" + nonce + "\nGET\n" + LINK_TARGET + "\npeer-link "
                + holderId;
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
        return "v1 " + sender + " " + millis + " " + nonce + " " + value;
    }
}
