package io.edgetunnel.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.testsupport.NoLeaks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The balancer stand-in itself, in front of two tiny servers that answer their name: per-request
 * round-robin on one client connection, WebSocket upgrades through the tunnel frontend, drain and
 * maint through the runtime API, health checks.
 */
@ExtendWith(NoLeaks.class)
class HaproxyBalancerIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private NamedServer a;
    private NamedServer b;
    private WebSocketApp wsA;
    private WebSocketApp wsB;
    private HaproxyBalancer balancer;

    @BeforeEach
    void start() {
        HaproxyBalancer.assumeAvailable();
        a = new NamedServer("a");
        b = new NamedServer("b");
        wsA = new WebSocketApp();
        wsB = new WebSocketApp();
        balancer = HaproxyBalancer.start(2, "/health");
        balancer.register(1, new HaproxyBalancer.Target(a.port(), port(wsA), a.port()));
        balancer.register(2, new HaproxyBalancer.Target(b.port(), port(wsB), b.port()));
    }

    @AfterEach
    void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {balancer, a, b, wsA, wsB}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the others
            }
        }
    }

    @Test
    void balancesEachRequestOfOneKeptAliveClientConnectionRoundRobin() throws IOException {
        List<String> names = new ArrayList<>();
        try (Socket socket = new Socket("127.0.0.1", balancer.publicPort())) {
            socket.setSoTimeout(5000);
            for (int i = 0; i < 6; i++) {
                names.add(get(socket, "/name"));
            }
        }

        assertThat(new HashSet<>(names)).containsExactlyInAnyOrder("a", "b");
        for (int i = 1; i < names.size(); i++) {
            assertThat(names.get(i)).as("request %d of %s", i, names).isNotEqualTo(names.get(i - 1));
        }
    }

    @Test
    void sendsNothingNewToADrainedSlotButKeepsItsOpenWebSocketAndTakesItBackWhenReady() throws Exception {
        List<Echo> echoes = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            echoes.add(Echo.open(client, balancer.tunnelPort()));
        }
        // random over two slots: all 24 on one would happen once in 8 million runs
        assertThat(wsA.upgradeHosts).isNotEmpty();
        assertThat(wsB.upgradeHosts).isNotEmpty();
        balancer.drain(1);

        int aBefore = a.requests.get();
        for (int i = 0; i < 6; i++) {
            assertThat(getOnNewConnection("/name")).isEqualTo("b");
        }
        assertThat(a.requests.get()).isEqualTo(aBefore);
        int wsABefore = wsA.upgradeHosts.size();
        for (int i = 0; i < 6; i++) {
            echoes.add(Echo.open(client, balancer.tunnelPort()));
        }
        assertThat(wsA.upgradeHosts).hasSize(wsABefore);
        for (Echo echo : echoes) {
            assertThat(echo.roundTrip("still there")).isEqualTo("still there");
        }

        balancer.ready(1);

        assertThat(List.of(getOnNewConnection("/name"), getOnNewConnection("/name")))
                .containsExactlyInAnyOrder("a", "b");
        for (Echo echo : echoes) {
            echo.close();
        }
    }

    @Test
    void sendsNothingToASlotInMaint() throws IOException {
        balancer.maint(2);

        int bBefore = b.requests.get();
        for (int i = 0; i < 4; i++) {
            assertThat(getOnNewConnection("/name")).isEqualTo("a");
        }
        assertThat(b.requests.get()).isEqualTo(bBefore);
    }

    @Test
    void takesASlotOutWhileItsHealthCheckFailsAndBackWhenItPasses() throws IOException {
        a.healthStatus.set(503);
        await().atMost(TIMEOUT).until(() -> !balancer.up("public", 1) && !balancer.up("tunnel", 1));

        for (int i = 0; i < 4; i++) {
            assertThat(getOnNewConnection("/name")).isEqualTo("b");
        }

        a.healthStatus.set(200);
        await().atMost(TIMEOUT).until(() -> balancer.up("public", 1) && balancer.up("tunnel", 1));
        assertThat(List.of(getOnNewConnection("/name"), getOnNewConnection("/name")))
                .containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void refusesASlotItDoesNotHave() {
        assertThatThrownBy(() -> balancer.drain(3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("slot: 3 (expected: 1..2)");
        assertThat(balancer.command("show servers state public")).contains("replica1", "replica2");
    }

    private static int port(WebSocketApp app) {
        return URI.create(app.url()).getPort();
    }

    private String getOnNewConnection(String path) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", balancer.publicPort())) {
            socket.setSoTimeout(5000);
            return get(socket, path);
        }
    }

    /** One keep-alive request on the socket; returns the body (status 200 expected). */
    private static String get(Socket socket, String path) throws IOException {
        socket.getOutputStream()
                .write(("GET " + path + " HTTP/1.1\r\nHost: balanced.example\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.write(c);
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        assertThat(headers).startsWith("HTTP/1.1 200");
        int length = -1;
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        assertThat(length).as("Content-Length in %s", headers).isNotNegative();
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    /** Answers {@code /name} with its name and {@code /health} with {@link #healthStatus}. */
    private static final class NamedServer implements AutoCloseable {

        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger healthStatus = new AtomicInteger(200);
        private final DisposableServer server;

        NamedServer(String name) {
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            server = HttpServer.create()
                    .host("127.0.0.1")
                    .port(0)
                    .route(routes -> routes.get("/name", (req, res) -> {
                                requests.incrementAndGet();
                                return res.header("Content-Length", Integer.toString(body.length))
                                        .sendByteArray(Mono.just(body))
                                        .then();
                            })
                            .get("/health", (req, res) -> res.status(healthStatus.get())
                                    .header("Content-Length", "0")
                                    .send()))
                    .bindNow();
        }

        int port() {
            return server.port();
        }

        @Override
        public void close() {
            server.disposeNow(Duration.ofSeconds(5));
        }
    }

    /** A WebSocket to {@code /echo} through the tunnel frontend, one message at a time. */
    private static final class Echo implements WebSocket.Listener {

        private final StringBuilder text = new StringBuilder();
        private volatile CompletableFuture<String> next = new CompletableFuture<>();
        private WebSocket socket;

        static Echo open(HttpClient client, int port) throws Exception {
            Echo echo = new Echo();
            echo.socket = client.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(2))
                    .buildAsync(URI.create("ws://127.0.0.1:" + port + "/echo"), echo)
                    .get(5, TimeUnit.SECONDS);
            return echo;
        }

        String roundTrip(String message) throws Exception {
            next = new CompletableFuture<>();
            socket.sendText(message, true).get(5, TimeUnit.SECONDS);
            return next.get(5, TimeUnit.SECONDS);
        }

        void close() throws Exception {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                next.complete(text.toString());
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }
}
