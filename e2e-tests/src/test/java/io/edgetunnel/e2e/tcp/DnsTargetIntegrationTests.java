package io.edgetunnel.e2e.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.RefusedPort;
import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.LocalTcpServer;
import io.edgetunnel.e2e.support.LoopbackDnsServer;
import io.edgetunnel.e2e.support.LoopbackDnsServer.Srv;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TCP routes whose targets are found by DNS: a DNS server on loopback inside the test serves SRV and
 * A records (1 s TTL) that change while the test runs. Connections follow the changes; a refused
 * target is skipped to the next.
 */
@ExtendWith(NoLeaks.class)
class DnsTargetIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static LoopbackDnsServer dns;
    private static LocalTcpServer one;
    private static LocalTcpServer two;
    private static RefusedPort refused;
    private static int closedPort;
    private static IngressNode ingress;
    private static AgentNode agent;

    /** A target that names itself, then closes. */
    private static LocalTcpServer named(String name) {
        return new LocalTcpServer(socket -> {
            socket.getOutputStream().write(name.getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            socket.getInputStream().readAllBytes();
        });
    }

    @BeforeAll
    static void start() throws IOException {
        dns = new LoopbackDnsServer();
        one = named("one");
        two = named("two");
        refused = RefusedPort.take();
        closedPort = refused.port();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        dns.a("one.svc.test", loopback);
        dns.a("dead.svc.test", loopback);
        // the dead target has the better priority: it is tried first, refused, and skipped
        dns.srv("_app._tcp.svc.test", new Srv(10, 1, closedPort, "dead.svc.test"), new Srv(20, 1, one.port(), "one.svc.test"));
        ingress = IngressNode.start("ingress.tcp.address=127.0.0.1", "ingress.tcp.listeners=srv=0,plain=0");
        agent = AgentNode.start(ingress, "dns-agent", Map.of(),
                "agent.dns.servers=" + dns.address(),
                "agent.dns.min-ttl=1s",
                "agent.dns.max-ttl=2s",
                "agent.tcp-routes=srv=dns+srv://_app._tcp.svc.test;health-check.interval=200ms,"
                        + "plain=dns://one.svc.test:" + one.port() + ";health-check.interval=200ms");
        TcpRouteIntegrationTests.awaitHealthy(ingress, agent, "dns-agent", "srv", "plain");
    }

    @AfterAll
    static void stop() {
        if (refused != null) {
            refused.close();
        }
        for (AutoCloseable closeable : new AutoCloseable[] {agent, ingress, one, two, dns}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    private static String whoAnswers(String route) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(),
                ingress.context().getBean(TcpServers.class).port(route))) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            socket.shutdownOutput();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void srvTargetsAreTriedByPrioritySkippingARefusedOneAndFollowTheRecords() throws IOException {
        assertThat(whoAnswers("srv")).isEqualTo("one");
        dns.a("two.svc.test", InetAddress.getByName("127.0.0.1"));
        dns.srv("_app._tcp.svc.test", new Srv(10, 1, two.port(), "two.svc.test"));
        // within the (bounded) TTL, new connections go where the records now point
        await().atMost(TIMEOUT).until(() -> whoAnswers("srv").equals("two"));
    }

    @Test
    void aRecordsWithAFixedPortReachTheTarget() throws IOException {
        assertThat(whoAnswers("plain")).isEqualTo("one");
    }
}
