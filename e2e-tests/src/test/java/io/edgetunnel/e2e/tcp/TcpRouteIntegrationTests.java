package io.edgetunnel.e2e.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.LocalTcpServer;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.TcpRelay;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TCP routes end to end with plain sockets: a real ingress with TCP listeners, a real agent, local
 * targets that control FIN and RST. Each half-close crosses the tunnel on its own; a refused target,
 * a lost tunnel and a missing agent each end the public connection the way a client can tell apart;
 * many connections in a row and at once; a client that stops reading holds the far end back.
 */
@ExtendWith(NoLeaks.class)
class TcpRouteIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static IngressNode ingress;
    private static AgentNode agent;
    private static AgentNode relayedAgent;
    private static TcpRelay relay;
    private static LocalTcpServer echo;
    private static LocalTcpServer halfClose;
    private static LocalTcpServer gone;
    private static LocalTcpServer firehose;
    private static final AtomicLong firehoseWritten = new AtomicLong();
    private static final StringBuilder halfCloseSaw = new StringBuilder();

    @BeforeAll
    static void start() throws IOException {
        echo = LocalTcpServer.echo();
        // writes a banner and its FIN first, then reads what the client still sends until the client's FIN
        halfClose = new LocalTcpServer(socket -> {
            socket.getOutputStream().write("banner".getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            String got = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            synchronized (halfCloseSaw) {
                halfCloseSaw.append(got);
            }
        });
        gone = LocalTcpServer.echo();
        firehose = new LocalTcpServer(socket -> {
            byte[] chunk = new byte[64 * 1024];
            while (true) {
                socket.getOutputStream().write(chunk);
                firehoseWritten.addAndGet(chunk.length);
            }
        });
        ingress = IngressNode.start(
                "ingress.tcp.address=127.0.0.1",
                "ingress.tcp.listeners=echo=0,halfclose=0,gone=0,firehose=0,nobody=0");
        agent = AgentNode.start(ingress, "tcp-agent", Map.of(),
                "agent.tcp-routes=echo=127.0.0.1:" + echo.port() + ";health-check.interval=200ms,"
                        + "halfclose=127.0.0.1:" + halfClose.port() + ";health-check.interval=1h,"
                        + "gone=127.0.0.1:" + gone.port() + ";health-check.interval=1h");
        relay = new TcpRelay(ingress.tunnelPort());
        relayedAgent = AgentNode.startAt("ws://127.0.0.1:" + relay.port() + "/tunnel", "tcp-relayed-agent", Map.of(),
                "agent.tcp-routes=firehose=127.0.0.1:" + firehose.port() + ";health-check.interval=1h");
        awaitHealthy(agent, "tcp-agent", "echo", "halfclose", "gone");
        awaitHealthy(relayedAgent, "tcp-relayed-agent", "firehose");
    }

    @AfterAll
    static void stop() throws IOException {
        relayedAgent.close();
        agent.close();
        ingress.close();
        relay.close();
        for (LocalTcpServer server : List.of(echo, halfClose, gone, firehose)) {
            server.close();
        }
    }

    /** The agent checked every route and the ingress routes them to it. */
    static void awaitHealthy(AgentNode node, String agentId, String... routes) {
        awaitHealthy(ingress, node, agentId, routes);
    }

    /** The agent checked every route and {@code ingress} routes them to it. */
    static void awaitHealthy(IngressNode ingress, AgentNode node, String agentId, String... routes) {
        await().atMost(TIMEOUT).until(() -> {
            for (String route : routes) {
                double healthy = node.meters().get("tunnel.agent.route.healthy")
                        .tag("route", route + "._tcp").gauge().value();
                if (healthy != 1.0) {
                    return false;
                }
            }
            return ingress.registry().tunnels().stream()
                    .anyMatch(t -> t.agentId().equals(agentId) && t.unhealthyRoutes().isEmpty());
        });
    }

    private static int port(String route) {
        return ingress.context().getBean(TcpServers.class).port(route);
    }

    private static Socket connect(String route) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port(route));
        socket.setSoTimeout((int) TIMEOUT.toMillis());
        return socket;
    }

    @Test
    void echoesBytesAndCarriesTheClientsFinToTheTarget() throws IOException {
        try (Socket socket = connect("echo")) {
            socket.getOutputStream().write("hello through the tunnel".getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            // the echo server answers EOF only after it saw our FIN: EOF here proves it crossed
            String back = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(back).isEqualTo("hello through the tunnel");
        }
    }

    @Test
    void theAdminListingShowsTheTcpListenersAndWhoServesThem() {
        String listing = reactor.netty.http.client.HttpClient.create()
                .get().uri("http://127.0.0.1:" + ingress.managementPort() + "/actuator/tunnels")
                .responseContent().aggregate().asString().block(TIMEOUT);
        assertThat(listing)
                .contains("\"tcpRoutes\"")
                .contains("{\"name\":\"echo\",\"claim\":\"echo._tcp\",\"port\":" + port("echo")
                        + ",\"tunnels\":1,\"healthyTunnels\":1}")
                .contains("\"name\":\"nobody\",\"claim\":\"nobody._tcp\",\"port\":" + port("nobody")
                        + ",\"tunnels\":0");
    }

    @Test
    void aTcpRouteIsNoHttpHostOnThePublicPort() {
        assertThat(PublicClient.getOnFreshConnection(ingress, "echo._tcp", "/").status()).isEqualTo(404);
    }

    @Test
    void carriesTheTargetsFinWhileTheClientKeepsWriting() throws IOException {
        try (Socket socket = connect("halfclose")) {
            // the target's FIN reaches us while our direction is still open
            assertThat(new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("banner");
            socket.getOutputStream().write("after your fin".getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            // our bytes, sent after its FIN, still reach the target, which saw our FIN then
            await().atMost(TIMEOUT).until(() -> {
                synchronized (halfCloseSaw) {
                    return halfCloseSaw.toString().contains("after your fin");
                }
            });
        }
    }

    @Test
    void movesManyMegabytesBothWaysIntact() throws Exception {
        byte[] payload = new byte[24 * 1024 * 1024];
        new java.util.Random(7).nextBytes(payload);
        try (Socket socket = connect("echo")) {
            ExecutorService writer = Executors.newSingleThreadExecutor();
            try {
                Future<?> sent = writer.submit(() -> {
                    socket.getOutputStream().write(payload);
                    socket.shutdownOutput();
                    return null;
                });
                byte[] back = socket.getInputStream().readAllBytes();
                sent.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                assertThat(back).isEqualTo(payload);
            } finally {
                writer.shutdownNow();
            }
        }
    }

    @Test
    void closesAtOnceWhenNoAgentClaimsTheRoute() throws IOException {
        try (Socket socket = connect("nobody")) {
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void resetsThePublicConnectionWhenTheTargetRefuses() throws IOException {
        int before = gone.accepted();
        assertThat(before).isPositive(); // its health check connected once: the route is healthy
        gone.stopListening();
        try (Socket socket = connect("gone")) {
            assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SocketException.class);
        }
    }

    @Test
    void handlesAThousandShortConnectionsInARowAndTwoHundredAtOnce() throws Exception {
        for (int i = 0; i < 1000; i++) {
            assertThat(roundTrip("echo", "ping " + i)).isEqualTo("ping " + i);
        }
        ExecutorService clients = Executors.newFixedThreadPool(200);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String message = "at once " + i;
                answers.add(clients.submit(() -> roundTrip("echo", message)));
            }
            for (int i = 0; i < 200; i++) {
                assertThat(answers.get(i).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("at once " + i);
            }
        } finally {
            clients.shutdownNow();
        }
    }

    private static String roundTrip(String route, String message) throws IOException {
        try (Socket socket = connect(route)) {
            socket.getOutputStream().write(message.getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void aClientThatStopsReadingHoldsTheTargetBackThenResetsWhenTheTunnelIsLost() throws Exception {
        try (Socket socket = connect("firehose")) {
            // read nothing: the target's writes must stop once every buffer on the way is full
            long[] last = {-1};
            int[] stable = {0};
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(300)).until(() -> {
                long now = firehoseWritten.get();
                stable[0] = now > 0 && now == last[0] ? stable[0] + 1 : 0;
                last[0] = now;
                return stable[0] >= 3;
            });
            // kernel buffers on four sockets plus the stream's windows; far below an unbounded queue
            assertThat(firehoseWritten.get()).isLessThan(64L * 1024 * 1024);
            assertThat(ingress.gauge("tunnel.ingress.buffered.bytes")).isLessThan(16.0 * 1024 * 1024);
            InputStream in = socket.getInputStream();
            byte[] some = in.readNBytes(1024 * 1024);
            assertThat(some).hasSize(1024 * 1024);
            // the tunnel dies mid-transfer: the client sees a reset, never a clean end of stream
            relay.cut();
            assertThatThrownBy(() -> {
                byte[] buffer = new byte[64 * 1024];
                ByteArrayOutputStream sink = new ByteArrayOutputStream();
                int read;
                while ((read = in.read(buffer)) >= 0) {
                    sink.reset();
                }
            }).isInstanceOf(SocketException.class);
        }
    }
}
