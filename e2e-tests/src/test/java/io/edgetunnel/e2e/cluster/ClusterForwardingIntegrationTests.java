package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.e2e.support.WebSocketApp;
import io.edgetunnel.e2e.support.WsClient;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * Two ingress replicas sharing a real Redis: an agent on one of them is reachable through the other,
 * by forwarding over the authenticated cluster port; the cluster port refuses anything unsigned.
 */
@ExtendWith(NoLeaks.class)
class ClusterForwardingIntegrationTests {

    static final String SECRET = "cluster-secret-for-tests-0123456789abcdef";

    private static RedisServer redis;
    private static UpstreamApp app;
    private static IngressNode holder;
    private static IngressNode other;
    private static AgentNode agent;
    private static WebSocketApp sockets;

    @BeforeAll
    static void start() throws Exception {
        RedisServer.assumeAvailable();
        redis = RedisServer.start();
        app = new UpstreamApp("held");
        holder = IngressNode.start(clusterProperties(redis, "replica-a"));
        other = IngressNode.start(clusterProperties(redis, "replica-b"));
        sockets = new WebSocketApp();
        Map<String, String> routes = new java.util.LinkedHashMap<>(AgentNode.route("app.example.com", app.url()));
        routes.put("127.0.0.1", sockets.url());
        agent = AgentNode.start(holder, "agent-1", routes);
        await().atMost(Duration.ofSeconds(30)).until(() -> PublicClient.get(other, "app.example.com", "/name").status() == 200);
    }

    static String[] clusterProperties(RedisServer redis, String id, String... more) {
        String[] base = {
            "ingress.cluster.redis-url=" + redis.url(),
            "ingress.cluster.secret=" + SECRET,
            "ingress.cluster.port=0",
            "ingress.cluster.advertise-address=127.0.0.1",
            "ingress.cluster.replica-id=" + id,
            // 1 s: a TTL of 3 s survives a GC pause or a starved thread on a loaded two-core machine
            "ingress.cluster.heartbeat-interval=1s",
        };
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, other, holder, sockets, app, redis}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    @Test
    void aRequestReachingTheReplicaWithoutTheAgentIsForwardedAndAnswered() {
        PublicClient.Reply reply = PublicClient.get(other, "app.example.com", "/name");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("held");
        assertThat(other.meters().get("tunnel.ingress.cluster.requests").tag("via", "forwarded").counter().count())
                .isPositive();
    }

    @Test
    void forwardingHeadersAndRequestIdPassUnchangedAcrossTheHop() {
        PublicClient.Reply direct = PublicClient.to(holder, "app.example.com")
                .headers(h -> h.set("X-Request-Id", "req-direct-1"))
                .get().uri("/headers").responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
        PublicClient.Reply forwarded = PublicClient.to(other, "app.example.com")
                .headers(h -> h.set("X-Request-Id", "req-forwarded-1"))
                .get().uri("/headers").responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
        assertThat(forwarded.status()).isEqualTo(200);
        assertThat(forwarded.body()).contains("req-forwarded-1").contains("X-Forwarded-For").contains("127.0.0.1");
        assertThat(forwarded.body()).doesNotContainIgnoringCase("x-edge-cluster-hop");
        // one hop of forwarding headers, exactly as when the request reaches the holder directly
        assertThat(forwarded.body().replace("req-forwarded-1", "ID").replace(Integer.toString(other.publicPort()), "PORT"))
                .isEqualTo(direct.body().replace("req-direct-1", "ID").replace(Integer.toString(holder.publicPort()), "PORT"));
    }

    @Test
    void requestBodiesStreamThroughTheHop() {
        byte[] body = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(7).nextBytes(body);
        byte[] echoed = PublicClient.to(other, "app.example.com")
                .post().uri("/echo")
                .send(Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(body)))
                .responseSingle((res, content) -> content.asByteArray())
                .block(Duration.ofSeconds(60));
        assertThat(echoed).isEqualTo(body);
    }

    @Test
    void anUnknownHostIsStill404OnEveryReplica() {
        assertThat(PublicClient.get(other, "nobody.example.com", "/").status()).isEqualTo(404);
        assertThat(PublicClient.get(holder, "nobody.example.com", "/").status()).isEqualTo(404);
    }

    @Test
    void theClusterPortRefusesUnsignedAndForgedRequests() {
        int clusterPort = holder.clusterPort();
        HttpClient client = HttpClient.create().host("127.0.0.1").port(clusterPort).headers(h -> h.set("Host", "app.example.com"));
        int unsigned = client.get().uri("/name").response().block(Duration.ofSeconds(10)).status().code();
        int forged = client.headers(h -> h.set("X-Edge-Cluster-Hop", "v1 replica-b " + System.currentTimeMillis() + " nonce AAAA"))
                .get().uri("/name").response().block(Duration.ofSeconds(10)).status().code();
        assertThat(unsigned).isEqualTo(401);
        assertThat(forged).isEqualTo(401);
        assertThat(app.requests.get()).isPositive();
        assertThat(holder.meters().get("tunnel.ingress.cluster.hops.rejected").counter().count()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void thePublicPortDropsAForwardingSignatureSentByAClient() {
        PublicClient.Reply reply = PublicClient.to(holder, "app.example.com")
                .headers(h -> h.set("X-Edge-Cluster-Hop", "v1 replica-b 1 n m"))
                .get().uri("/headers").responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).doesNotContainIgnoringCase("x-edge-cluster-hop");
    }

    @Test
    void serverSentEventsStreamThroughTheHopAsTheyHappen() {
        java.util.List<Long> arrivals = new java.util.concurrent.CopyOnWriteArrayList<>();
        String body = PublicClient.to(other, "app.example.com")
                .get().uri("/sse?count=4&intervalMillis=300")
                .responseContent()
                .asString()
                .doOnNext(chunk -> arrivals.add(System.nanoTime()))
                .collect(java.util.stream.Collectors.joining())
                .block(Duration.ofSeconds(30));
        assertThat(body).contains("event-0").contains("event-3");
        // streamed, not buffered at either replica: the chunks arrive spread out over time
        assertThat(arrivals.size()).isGreaterThanOrEqualTo(2);
        assertThat(arrivals.get(arrivals.size() - 1) - arrivals.get(0)).isGreaterThan(Duration.ofMillis(500).toNanos());
    }

    @Test
    void aWebSocketEchoesThroughTheHopAndTheAppsCloseCodeReachesTheClient() throws Exception {
        try (WsClient ws = WsClient.open(other, "/echo")) {
            ws.sendText("hello over two replicas");
            assertThat(ws.nextMessage().string()).isEqualTo("hello over two replicas");
        }
        try (WsClient closing = WsClient.open(other, "/close")) {
            WsClient.Close close = closing.awaitClose();
            assertThat(close.code()).isEqualTo(4001);
            assertThat(close.reason()).isEqualTo("bye");
        }
    }

    @Test
    void aWebSocketTheAppRefusesGetsTheAppsStatusThroughTheHop() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WsClient.open(other, "/forbidden"))
                .isInstanceOf(java.util.concurrent.CompletionException.class)
                .cause()
                .isInstanceOfSatisfying(java.net.http.WebSocketHandshakeException.class, e -> {
                    assertThat(e.getResponse().statusCode()).isEqualTo(403);
                    assertThat(e.getResponse().headers().firstValue("X-Reason")).hasValue("no-ws-here");
                });
    }

    @Test
    void aChunkedUploadWithoutContentLengthArrivesWholeAndTheHopConnectionStaysUsable() {
        long size = 1024 * 1024 + 3;
        for (int i = 0; i < 3; i++) {
            PublicClient.Reply reply = PublicClient.to(other, "app.example.com")
                    .post().uri("/sha256")
                    .send(io.edgetunnel.e2e.support.Payloads.stream(size, 64 * 1024))
                    .responseSingle(PublicClient::reply)
                    .block(Duration.ofSeconds(60));
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body()).contains(io.edgetunnel.e2e.support.Payloads.sha256(size, 0));
            // the next request on the replicas' pooled connection is still parsed as a request of its own
            assertThat(PublicClient.get(other, "app.example.com", "/name").body()).isEqualTo("held");
        }
    }

    @Test
    void aHeaderBlockThePublicPortAcceptsAlsoCrossesTheHop() {
        String big = "x".repeat(12 * 1024);
        PublicClient.Reply reply = PublicClient.to(other, "app.example.com")
                .headers(h -> h.set("X-Big", big))
                .get().uri("/headers").responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).contains(big);
    }
}
