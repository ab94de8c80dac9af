package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.WebSocketApp;
import io.edgetunnel.e2e.support.WsClient;
import io.edgetunnel.testsupport.NoLeaks;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * WebSocket passthrough end to end (spec section 19): a real JDK WebSocket client on the ingress's
 * public port, the real ingress and agent, and a real WebSocket local app.
 */
@ExtendWith({NoLeaks.class, OutputCaptureExtension.class})
class WebSocketPassthroughIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static WebSocketApp app;
    private static IngressNode ingress;
    private static AgentNode agent;

    @BeforeAll
    static void start() {
        app = new WebSocketApp();
        // compression opted into for this host; frames up to 16MB for the 10 MiB single-frame message
        ingress = IngressNode.start("ingress.proxy.websocket.compress-hosts=127.0.0.1",
                "ingress.proxy.websocket.max-frame-bytes=16MB");
        agent = AgentNode.start(ingress, "ws-agent", AgentNode.route("127.0.0.1", app.url()));
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("127.0.0.1") == 1);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, ingress, app}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    @AfterEach
    void everyStreamEnds() {
        await().atMost(TIMEOUT).untilAsserted(
                () -> assertThat(ingress.gauge("tunnel.ingress.streams.active")).isZero());
    }

    @Test
    void echoesTextAndBinaryMessagesBothWays() throws Exception {
        try (WsClient client = WsClient.open(ingress, "/echo")) {
            client.sendText("hello through the tunnel");
            client.sendBinary(new byte[] {0, 1, 2, (byte) 0xff});

            WsClient.Message text = client.nextMessage();
            WsClient.Message binary = client.nextMessage();
            assertThat(text.text()).isTrue();
            assertThat(text.string()).isEqualTo("hello through the tunnel");
            assertThat(binary.text()).isFalse();
            assertThat(binary.data()).containsExactly(0, 1, 2, 0xff);

            client.close(1000, "done");
            assertThat(client.awaitClose()).isEqualTo(new WsClient.Close(1000, "done"));
        }
    }

    @Test
    void fragmentedMessageArrivesIntactAsFragments() throws Exception {
        app.receivedFrames.clear();
        try (WsClient client = WsClient.open(ingress, "/echo")) {
            client.sendTextFragments(List.of("frag-", "ment", "ed ✓"));

            WsClient.Message message = client.nextMessage();
            assertThat(message.text()).isTrue();
            assertThat(message.string()).isEqualTo("frag-mented ✓");
            assertThat(app.receivedFrames).as("the app sees the client's three fragments")
                    .containsExactly("text:false", "continuation:false", "continuation:true");
            client.close(1000, "");
            client.awaitClose();
        }
    }

    @Test
    void pingIsAnsweredByTheAppWithPong() throws Exception {
        try (WsClient client = WsClient.open(ingress, "/echo")) {
            client.ping("are you there".getBytes(StandardCharsets.UTF_8));

            assertThat(new String(client.nextPong(), StandardCharsets.UTF_8)).isEqualTo("are you there");
            client.close(1000, "");
            client.awaitClose();
        }
    }

    @Test
    void appCloseCodeAndReasonReachTheClient() throws Exception {
        try (WsClient client = WsClient.open(ingress, "/close")) {
            assertThat(client.awaitClose()).isEqualTo(new WsClient.Close(4001, "bye"));
        }
    }

    @Test
    void clientCloseCodeAndReasonReachTheApp() throws Exception {
        app.receivedCloses.clear();
        try (WsClient client = WsClient.open(ingress, "/echo")) {
            client.sendText("then bye");
            client.nextMessage();
            client.close(4002, "client done");
            client.awaitClose();
        }
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(app.receivedCloses)
                .anySatisfy(status -> {
                    assertThat(status.code()).isEqualTo(4002);
                    assertThat(status.reasonText()).isEqualTo("client done");
                }));
    }

    @Test
    void subprotocolChosenByTheAppReachesTheClient() throws Exception {
        try (WsClient client = WsClient.open(ingress, "/chat", "chat.v1", "chat.v2")) {
            assertThat(client.subprotocol()).isEqualTo("chat.v2");
            assertThat(client.nextMessage().string()).isEqualTo("protocol=chat.v2");
            client.close(1000, "");
            client.awaitClose();
        }
    }

    @Test
    void refusedUpgradeGivesTheClientTheAppsStatusAndNo101() {
        assertThatThrownBy(() -> WsClient.open(ingress, "/forbidden"))
                .isInstanceOf(CompletionException.class)
                .cause()
                .isInstanceOfSatisfying(WebSocketHandshakeException.class, e -> {
                    assertThat(e.getResponse().statusCode()).isEqualTo(403);
                    assertThat(e.getResponse().headers().firstValue("X-Reason")).hasValue("no-ws-here");
                });
    }

    @Test
    void hundredConcurrentSocketsEachEchoTheirOwnMessages() throws Exception {
        List<CompletableFuture<WsClient>> opening = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            opening.add(WsClient.connect(ingress, "/echo"));
        }
        List<WsClient> clients = new ArrayList<>();
        for (CompletableFuture<WsClient> future : opening) {
            clients.add(future.join());
        }
        try {
            for (int i = 0; i < clients.size(); i++) {
                clients.get(i).sendText("socket-" + i + "-a");
                clients.get(i).sendText("socket-" + i + "-b");
            }
            for (int i = 0; i < clients.size(); i++) {
                assertThat(clients.get(i).nextMessage().string()).isEqualTo("socket-" + i + "-a");
                assertThat(clients.get(i).nextMessage().string()).isEqualTo("socket-" + i + "-b");
            }
            for (WsClient client : clients) {
                client.close(1000, "");
            }
            for (WsClient client : clients) {
                assertThat(client.awaitClose().code()).isEqualTo(1000);
            }
        } finally {
            clients.forEach(WsClient::close);
        }
    }

    /**
     * The agent's 101 arrives on the tunnel's event loop, usually not the public connection's. A frame
     * the client sends the instant it has the 101 must not be lost to that hand-over: before the
     * handshake ran on the connection's own loop, about one upgrade in a few hundred dropped it (the
     * old HTTP operations, already ended, still owned the connection) and the socket stayed silent.
     */
    @Test
    void frameSentTheInstantTheHandshakeCompletesIsNeverLost() throws Exception {
        int rounds = 20;
        int sockets = 50;
        for (int round = 0; round < rounds; round++) {
            List<CompletableFuture<WsClient>> opened = new ArrayList<>();
            for (int i = 0; i < sockets; i++) {
                byte[] id = {(byte) round, (byte) i};
                opened.add(WsClient.connect(ingress, "/echo").thenApply(client -> {
                    client.socket().sendBinary(java.nio.ByteBuffer.wrap(id), true);
                    return client;
                }));
            }
            try {
                for (int i = 0; i < sockets; i++) {
                    assertThat(opened.get(i).join().nextMessage(30).data()).as("round %d socket %d", round, i)
                            .containsExactly(round, i);
                }
            } finally {
                // every socket that opened, also when an assertion or another socket failed
                CompletableFuture.allOf(opened.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
                opened.stream().filter(f -> !f.isCompletedExceptionally()).map(CompletableFuture::join)
                        .forEach(WsClient::close);
            }
        }
    }

    @Test
    void tenMibBinaryMessageTravelsBothWaysIntact() throws Exception {
        byte[] payload = new byte[10 * 1024 * 1024];
        new Random(42).nextBytes(payload);
        try (WsClient client = WsClient.open(ingress, "/echo")) {
            client.sendBinary(payload);

            WsClient.Message echoed = client.nextMessage();
            assertThat(echoed.text()).isFalse();
            assertThat(echoed.data().length).isEqualTo(payload.length);
            assertThat(sha256(echoed.data())).isEqualTo(sha256(payload));
            client.close(1000, "");
            client.awaitClose();
        }
    }

    @Test
    void slowReaderStopsTheAppInsteadOfGrowingMemory() throws Exception {
        app.floodBytes.set(0);
        WsClient client = WsClient.connect(ingress, "/flood", java.util.Map.of(), false).join();
        try {
            client.nextMessage(); // one frame, then the client stops reading its socket
            long[] last = {-1};
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(500)).until(() -> {
                long now = app.floodBytes.get();
                boolean settled = now == last[0];
                last[0] = now;
                return settled;
            });
            assertThat(app.floodBytes.get()).as("the app is stopped long before its 256 MiB")
                    .isLessThan(64L * 1024 * 1024);
            assertThat(ingress.gauge("tunnel.ingress.buffered.bytes")).as("ingress holds at most one window")
                    .isLessThanOrEqualTo(256 * 1024);
        } finally {
            client.close();
        }
    }

    @Test
    void accessLogHasOneLineWithStatus101AndBytesWhenTheSocketCloses(CapturedOutput output) throws Exception {
        try (WsClient client = WsClient.connect(ingress, "/echo", java.util.Map.of("X-Request-Id", "ws-access-1"), true)
                .join()) {
            client.sendText("hello");
            client.nextMessage();
            assertThat(output.getOut()).doesNotContain("request_id=ws-access-1 ");
            client.close(1000, "");
            client.awaitClose();
        }
        await().atMost(TIMEOUT).until(() -> output.getOut().contains("request_id=ws-access-1 "));
        List<String> lines = output.getOut().lines().filter(l -> l.contains("request_id=ws-access-1 ")).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).containsPattern("GET 127\\.0\\.0\\.1:\\d+/echo -> 101 completed in \\d+ ms "
                + "bytes_in=5 bytes_out=5 agent=ws-agent outcome=ok");
    }

    @Test
    void compressingClientGetsPermessageDeflateAndTheAppSeesTheClientsHost() {
        app.upgradeHosts.clear();
        String text = "compressible ".repeat(2000);
        List<String> extensions = new ArrayList<>();
        String echoed = reactor.netty.http.client.HttpClient.create()
                .websocket(reactor.netty.http.client.WebsocketClientSpec.builder().compress(true).build())
                .uri("ws://127.0.0.1:" + ingress.publicPort() + "/echo")
                .handle((in, out) -> {
                    extensions.add(String.valueOf(in.headers().get("Sec-WebSocket-Extensions")));
                    return out.sendString(reactor.core.publisher.Mono.just(text))
                            .then()
                            .thenMany(in.aggregateFrames(1024 * 1024).receive().asString().take(1))
                            .concatWith(reactor.core.publisher.Mono.defer(() -> out.sendClose(1000, ""))
                                    .then(reactor.core.publisher.Mono.empty()));
                })
                .blockFirst(TIMEOUT);

        assertThat(echoed).isEqualTo(text);
        assertThat(extensions).singleElement().asString().startsWith("permessage-deflate");
        assertThat(app.upgradeHosts).containsExactly("127.0.0.1:" + ingress.publicPort());
    }

    @Test
    void frameOverTheIngressLimitClosesTheClientWith1009AndEndsTheStream() throws Exception {
        app.receivedCloses.clear();
        try (IngressNode small = IngressNode.start("ingress.proxy.websocket.max-frame-bytes=1KB");
                AgentNode smallAgent = AgentNode.start(small, "ws-agent-small", AgentNode.route("127.0.0.1", app.url()))) {
            await().atMost(TIMEOUT).until(() -> small.registry().tunnelCount("127.0.0.1") == 1);
            try (WsClient client = WsClient.open(small, "/echo")) {
                client.sendBinary(new byte[512]);
                assertThat(client.nextMessage().data()).hasSize(512);

                client.sendBinary(new byte[2048]);

                assertThat(client.awaitClose().code()).isEqualTo(1009);
            }
            await().atMost(TIMEOUT).untilAsserted(
                    () -> assertThat(small.gauge("tunnel.ingress.streams.active")).isZero());
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(app.receivedCloses)
                    .as("the 1009 is relayed to the app like any close")
                    .anySatisfy(status -> assertThat(status.code()).isEqualTo(1009)));
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource({
        "no key,,13,without Sec-WebSocket-Key",
        "old version,dGhlIHNhbXBsZSBub25jZQ==,8,Sec-WebSocket-Version: 8 (expected: 13)"
    })
    void malformedUpgradeIsRefusedWith400BeforeReachingTheApp(String name, String key, String version, String reason) {
        int requestsBefore = app.receivedFrames.size() + app.upgradeHosts.size();
        io.edgetunnel.e2e.support.PublicClient.Reply reply = reactor.netty.http.client.HttpClient.newConnection()
                .host("127.0.0.1")
                .port(ingress.publicPort())
                .headers(h -> {
                    h.set("Host", "127.0.0.1").set("Upgrade", "websocket").set("Connection", "Upgrade")
                            .set("Sec-WebSocket-Version", version);
                    if (key != null) {
                        h.set("Sec-WebSocket-Key", key);
                    }
                })
                .get()
                .uri("/echo")
                .responseSingle(io.edgetunnel.e2e.support.PublicClient::reply)
                .block(TIMEOUT);

        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.body()).contains(reason);
        assertThat(app.receivedFrames.size() + app.upgradeHosts.size()).isEqualTo(requestsBefore);
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
