package io.edgetunnel.e2e.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real {@code redis-server} published as a TCP route, driven through the ingress's TCP listener by
 * the real {@code redis-cli} and {@code redis-benchmark} and by a plain RESP client for a 32 MiB value.
 */
@ExtendWith(NoLeaks.class)
class RedisTcpRouteIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String HINT = "Debian/Ubuntu: apt-get install redis-server (redis-tools); .ci/run installs it";

    private static RedisServer redis;
    private static IngressNode ingress;
    private static AgentNode agent;

    @BeforeAll
    static void start() {
        RedisServer.assumeAvailable();
        Tools.assumeInstalled(HINT, "redis-cli", "redis-benchmark");
        redis = RedisServer.start();
        ingress = IngressNode.start("ingress.tcp.address=127.0.0.1", "ingress.tcp.listeners=redis=0");
        agent = AgentNode.start(ingress, "redis-agent", Map.of(),
                "agent.tcp-routes=redis=127.0.0.1:" + redis.port() + ";health-check.interval=200ms");
        TcpRouteIntegrationTests.awaitHealthy(ingress, agent, "redis-agent", "redis");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, ingress, redis}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    private static int port() {
        return ingress.context().getBean(TcpServers.class).port("redis");
    }

    private static String tool(String name) {
        return Tools.find(name).orElseThrow().toString();
    }

    @Test
    void redisCliPingsThroughTheTunnel() throws Exception {
        Tools.Result ping = Tools.run(TIMEOUT, List.of(tool("redis-cli"), "-h", "127.0.0.1", "-p",
                Integer.toString(port()), "PING"));
        assertThat(ping.exitCode()).as(ping.output()).isZero();
        assertThat(ping.output().trim()).isEqualTo("PONG");
    }

    @Test
    void aThirtyTwoMebibyteValueRoundTripsIntact() throws IOException {
        byte[] value = new byte[32 * 1024 * 1024];
        new Random(32).nextBytes(value);
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port())) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
            command(out, "SET".getBytes(StandardCharsets.US_ASCII), "big".getBytes(StandardCharsets.US_ASCII), value);
            assertThat(line(in)).isEqualTo("+OK");
            command(out, "GET".getBytes(StandardCharsets.US_ASCII), "big".getBytes(StandardCharsets.US_ASCII));
            assertThat(line(in)).isEqualTo("$" + value.length);
            byte[] back = in.readNBytes(value.length);
            assertThat(line(in)).isEmpty();
            assertThat(back).isEqualTo(value);
        }
    }

    @Test
    void redisBenchmarkWithPipeliningCompletesWithoutErrors() throws Exception {
        Tools.Result bench = Tools.run(TIMEOUT, List.of(tool("redis-benchmark"), "-h", "127.0.0.1", "-p",
                Integer.toString(port()), "-n", "20000", "-c", "8", "-P", "16", "-t", "set,get", "-q"));
        assertThat(bench.exitCode()).as(bench.output()).isZero();
        assertThat(bench.output()).contains("SET").contains("GET").doesNotContainIgnoringCase("error");
    }

    private static void command(OutputStream out, byte[]... parts) throws IOException {
        out.write(("*" + parts.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (byte[] part : parts) {
            out.write(("$" + part.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(part);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }
}
