package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.RefusedPort;
import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.LoopbackDnsServer;
import io.edgetunnel.e2e.support.LoopbackDnsServer.Srv;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.PublicClient.Reply;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.e2e.support.WebSocketApp;
import io.edgetunnel.e2e.support.WsClient;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * HTTP routes whose local targets are found by DNS: a DNS server on loopback inside the test serves
 * SRV and A records (1 s TTL, bounded to at most 2 s) that change while the test runs. Requests
 * through the tunnel follow the changes; a refused target is skipped with no failed request; the
 * route's health check passes while any target answers; a WebSocket upgrade fails over the same way.
 */
@ExtendWith(NoLeaks.class)
class DnsHttpTargetIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static LoopbackDnsServer dns;
    private static UpstreamApp one;
    private static UpstreamApp three;
    private static WebSocketApp websockets;
    /** The app "two" on 127.0.0.2, at the same port as {@link #one}: an A record change moves the route. */
    private static DisposableServer two;
    private static RefusedPort refused;
    private static int closedPort;
    private static IngressNode ingress;
    private static AgentNode agent;

    @BeforeAll
    static void start() throws IOException {
        dns = new LoopbackDnsServer();
        one = new UpstreamApp("one");
        three = new UpstreamApp("three");
        websockets = new WebSocketApp();
        two = HttpServer.create()
                .host("127.0.0.2")
                .port(one.port())
                .route(routes -> routes.get("/name", (req, res) -> res.sendString(Mono.just("two")))
                        .get("/health", (req, res) -> res.sendString(Mono.just("two"))))
                .bindNow();
        refused = RefusedPort.take();
        closedPort = refused.port();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        dns.a("one.svc.test", loopback);
        dns.a("three.svc.test", loopback);
        dns.a("dead.svc.test", loopback);
        // nothing listens on 127.0.0.3: connects to it are refused
        dns.a("plain.svc.test", loopback, InetAddress.getByName("127.0.0.3"));
        // the dead target has the better priority: it is tried first, refused, and skipped
        dns.srv("_app._tcp.svc.test", new Srv(10, 1, closedPort, "dead.svc.test"), new Srv(20, 1, one.port(), "one.svc.test"));
        dns.srv("_ws._tcp.svc.test", new Srv(10, 1, closedPort, "dead.svc.test"),
                new Srv(20, 1, URI.create(websockets.url()).getPort(), "one.svc.test"));
        dns.srv("_gone._tcp.svc.test", new Srv(10, 1, closedPort, "dead.svc.test"), new Srv(20, 1, one.port(), "one.svc.test"));
        Map<String, String> routes = new LinkedHashMap<>();
        routes.put("srv.example", "dns+srv://_app._tcp.svc.test");
        routes.put("plain.example", "dns://plain.svc.test:" + one.port());
        routes.put("gone.example", "dns+srv://_gone._tcp.svc.test");
        // the JDK's WebSocket client sends Host 127.0.0.1: the route's host
        routes.put("127.0.0.1", "dns+srv://_ws._tcp.svc.test");
        ingress = IngressNode.start("ingress.proxy.response-timeout=5s");
        agent = AgentNode.start(ingress, "dns-http-agent", routes,
                "agent.dns.servers=" + dns.address(),
                "agent.dns.min-ttl=1s",
                "agent.dns.max-ttl=2s",
                "agent.routes[0].health-check.path=/health",
                "agent.routes[0].health-check.interval=200ms",
                "agent.routes[1].health-check.path=/health",
                "agent.routes[1].health-check.interval=200ms",
                "agent.routes[2].health-check.path=/health",
                "agent.routes[2].health-check.interval=200ms",
                "agent.routes[2].health-check.failure-threshold=1");
        // a checked route is out of rotation until its first check passed
        for (String host : List.of("srv.example", "plain.example", "gone.example")) {
            await().atMost(TIMEOUT).until(() -> PublicClient.get(ingress, host, "/name").status() == 200);
        }
    }

    @AfterAll
    static void stop() {
        if (refused != null) {
            refused.close();
        }
        for (AutoCloseable closeable : new AutoCloseable[] {agent, ingress, one, three, websockets, dns}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        if (two != null) {
            two.disposeNow(Duration.ofSeconds(5));
        }
    }

    private static String whoAnswers(String host) {
        Reply reply = PublicClient.get(ingress, host, "/name");
        assertThat(reply.status()).as("status of GET /name on %s: %s", host, reply.body()).isEqualTo(200);
        return reply.body();
    }

    @Test
    void srvTargetsSkipARefusedOneWithNoFailedRequestAndFollowTheRecords() throws IOException {
        for (int i = 0; i < 20; i++) {
            assertThat(whoAnswers("srv.example")).isEqualTo("one");
        }
        dns.srv("_app._tcp.svc.test", new Srv(10, 1, three.port(), "three.svc.test"));
        // within the (bounded) TTL, new requests go where the records now point
        await().atMost(TIMEOUT).until(() -> whoAnswers("srv.example").equals("three"));
    }

    @Test
    void aRecordsWithAFixedPortSkipARefusedAddressAndFollowTheRecords() throws IOException {
        // the two addresses come in random order: a refused first one is retried on the other
        for (int i = 0; i < 20; i++) {
            assertThat(whoAnswers("plain.example")).isEqualTo("one");
        }
        dns.a("plain.svc.test", InetAddress.getByName("127.0.0.2"));
        await().atMost(TIMEOUT).until(() -> whoAnswers("plain.example").equals("two"));
    }

    @Test
    void aRouteIsHealthyWhileAnyTargetAnswersAndOutOfRotationWhenNoneDoes() throws IOException {
        assertThat(whoAnswers("gone.example")).isEqualTo("one");
        dns.srv("_gone._tcp.svc.test", new Srv(10, 1, closedPort, "dead.svc.test"));
        await().atMost(TIMEOUT).until(() -> PublicClient.get(ingress, "gone.example", "/name").status() == 503);
    }

    @Test
    void aWebSocketUpgradeSkipsARefusedTarget() throws Exception {
        try (WsClient client = WsClient.open(ingress, "/echo")) {
            client.sendText("found by DNS");
            assertThat(client.nextMessage().string()).isEqualTo("found by DNS");
            client.close(1000, "done");
            assertThat(client.awaitClose()).isEqualTo(new WsClient.Close(1000, "done"));
        }
    }
}
