package io.edgetunnel.e2e.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.LocalTcpServer;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.testsupport.NoLeaks;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * PROXY protocol on TCP routes: the ingress reads a v2 header as an NLB sends it (and refuses a
 * connection without a valid one), and the agent passes the client's address on to the target as a
 * v1 or v2 header, as each route asks.
 */
@ExtendWith(NoLeaks.class)
class ProxyProtocolIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private static IngressNode ingress;
    private static AgentNode agent;
    private static LocalTcpServer v1Target;
    private static LocalTcpServer v2Target;

    @BeforeAll
    static void start() {
        // answers with the header line it got, then the rest of the bytes
        v1Target = new LocalTcpServer(socket -> {
            byte[] all = socket.getInputStream().readAllBytes();
            socket.getOutputStream().write(all);
            socket.shutdownOutput();
        });
        // decodes the v2 header it got and answers "source destination", then the rest of the bytes
        v2Target = new LocalTcpServer(socket -> {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] signature = in.readNBytes(12);
            int versionCommand = in.readUnsignedByte();
            int family = in.readUnsignedByte();
            int length = in.readUnsignedShort();
            byte[] body = in.readNBytes(length);
            String answer;
            if (!java.util.Arrays.equals(signature, V2_SIGNATURE) || versionCommand != 0x21 || family != 0x11) {
                answer = "bad header";
            } else {
                ByteBuffer b = ByteBuffer.wrap(body);
                String src = ip(b) ;
                String dst = ip(b);
                answer = src + ":" + (b.getShort() & 0xFFFF) + " " + dst + ":" + (b.getShort() & 0xFFFF);
            }
            socket.getOutputStream().write((answer + "|").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(in.readAllBytes());
            socket.shutdownOutput();
        });
        ingress = IngressNode.start("ingress.tcp.address=127.0.0.1", "ingress.tcp.proxy-protocol=true",
                "ingress.tcp.listeners=one=0,two=0");
        agent = AgentNode.start(ingress, "pp-agent", Map.of(),
                "agent.tcp-routes=one=127.0.0.1:" + v1Target.port() + ";proxy-protocol=v1;health-check.interval=200ms,"
                        + "two=127.0.0.1:" + v2Target.port() + ";proxy-protocol=v2;health-check.interval=200ms");
        TcpRouteIntegrationTests.awaitHealthy(ingress, agent, "pp-agent", "one", "two");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, ingress, v1Target, v2Target}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    private static String ip(ByteBuffer b) {
        return (b.get() & 0xFF) + "." + (b.get() & 0xFF) + "." + (b.get() & 0xFF) + "." + (b.get() & 0xFF);
    }

    /** A v2 PROXY header as an NLB sends it: TCP over IPv4 from 203.0.113.7:5100 to 10.0.1.5:2222. */
    private static byte[] nlbHeader() {
        ByteBuffer b = ByteBuffer.allocate(16 + 12);
        b.put(V2_SIGNATURE).put((byte) 0x21).put((byte) 0x11).putShort((short) 12);
        b.put(new byte[] {(byte) 203, 0, 113, 7}).put(new byte[] {10, 0, 1, 5});
        b.putShort((short) 5100).putShort((short) 2222);
        return b.array();
    }

    private static String exchange(String route, byte[] first, String then) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(),
                ingress.context().getBean(TcpServers.class).port(route))) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            socket.getOutputStream().write(first);
            socket.getOutputStream().write(then.getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return all.toString(StandardCharsets.US_ASCII);
        }
    }

    @Test
    void theNlbsClientAddressReachesAVersionOneTarget() throws IOException {
        assertThat(exchange("one", nlbHeader(), "hello"))
                .isEqualTo("PROXY TCP4 203.0.113.7 10.0.1.5 5100 2222\r\nhello");
    }

    @Test
    void theNlbsClientAddressReachesAVersionTwoTarget() throws IOException {
        assertThat(exchange("two", nlbHeader(), "hello")).isEqualTo("203.0.113.7:5100 10.0.1.5:2222|hello");
    }

    @Test
    void theNlbsHealthCheckIsClosedWithoutAStream() throws IOException {
        MeterRegistry meters = ingress.context().getBean(MeterRegistry.class);
        double before = balancerChecks(meters);
        // v2, command LOCAL, family UNSPEC, no addresses: what an NLB sends on a health-check connection
        ByteBuffer local = ByteBuffer.allocate(16);
        local.put(V2_SIGNATURE).put((byte) 0x20).put((byte) 0x00).putShort((short) 0);
        // a clean end (FIN, no reset), nothing from a target: no stream reached the agent
        assertThat(exchange("one", local.array(), "")).isEmpty();
        assertThat(balancerChecks(meters)).isEqualTo(before + 1);
    }

    private static double balancerChecks(MeterRegistry meters) {
        var counter = meters.find("tunnel.ingress.tcp.connections").tags("route", "one", "outcome", "balancer_check")
                .counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aConnectionWithoutAValidHeaderIsReset() {
        assertThatThrownBy(() -> exchange("one", "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII), ""))
                .isInstanceOf(SocketException.class);
        byte[] broken = nlbHeader();
        broken[13] = 0x71; // an address family that does not exist
        assertThatThrownBy(() -> exchange("one", broken, "hello")).isInstanceOf(SocketException.class);
    }
}
