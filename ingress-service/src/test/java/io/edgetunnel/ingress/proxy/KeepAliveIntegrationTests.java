package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.support.EdgeAgents;
import io.edgetunnel.ingress.support.EdgeIngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Header;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * A kept-alive public connection keeps serving requests after one the ingress answered itself
 * ({@link KeepAliveReadGuard}): without the guard, the third request below is never read and the
 * client waits until it gives up (reactor/reactor-netty#4361).
 */
@EdgeIngressTest
class KeepAliveIntegrationTests {

    /** A healthy answer takes milliseconds; a connection that stopped reading never answers. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(15);

    @Autowired
    TunnelServer server;

    @LocalServerPort
    int publicPort;

    @RegisterExtension
    final EdgeAgents agents = new EdgeAgents();

    @Test
    void aRequestAnsweredOnTheSpotBehindAProxiedOneLeavesTheConnectionReadingTheNext() throws Exception {
        agents.register(server.port(), (agent, request, body) -> agent.respond(request.streamId(), 200,
                List.of(new Header("Content-Length", "2")), "ok".getBytes(StandardCharsets.US_ASCII)), "kept.test");

        try (Socket client = new Socket("127.0.0.1", publicPort)) {
            client.setSoTimeout((int) READ_TIMEOUT.toMillis());
            OutputStream out = client.getOutputStream();
            InputStream in = new BufferedInputStream(client.getInputStream());
            for (int round = 1; round <= 3; round++) {
                // the second waits behind the first (proxied, so answered later) and is answered at once
                send(out, get("kept.test") + get("nobody.kept.test"));
                assertThat(readResponse(in)).as("round %d, proxied", round).startsWith("HTTP/1.1 200");
                assertThat(readResponse(in)).as("round %d, unknown host", round).startsWith("HTTP/1.1 404");

                send(out, get("kept.test"));
                assertThat(readResponse(in)).as("round %d, the next request on the connection", round)
                        .startsWith("HTTP/1.1 200");
            }
        }
    }

    @Test
    void requestsAnsweredOnTheSpotOneAfterAnotherKeepTheConnectionReading() throws Exception {
        try (Socket client = new Socket("127.0.0.1", publicPort)) {
            client.setSoTimeout((int) READ_TIMEOUT.toMillis());
            OutputStream out = client.getOutputStream();
            InputStream in = new BufferedInputStream(client.getInputStream());
            send(out, get("nobody.kept.test") + get("nobody.kept.test") + get("nobody.kept.test"));
            for (int i = 1; i <= 3; i++) {
                assertThat(readResponse(in)).as("pipelined %d", i).startsWith("HTTP/1.1 404");
            }
            send(out, get("nobody.kept.test"));
            assertThat(readResponse(in)).as("the next request on the connection").startsWith("HTTP/1.1 404");
        }
    }

    private static String get(String host) {
        return "GET /kept HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    private static void send(OutputStream out, String requests) throws IOException {
        out.write(requests.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One response: its head, then a body framed by Content-Length or chunks; returns the head. */
    private static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        long length = 0;
        boolean chunked = false;
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            head.append(line).append("\r\n");
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring("content-length:".length()).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        if (!chunked) {
            skip(in, length);
            return head.toString();
        }
        for (long size = Long.parseLong(readLine(in).split(";")[0].trim(), 16); size > 0;
                size = Long.parseLong(readLine(in).split(";")[0].trim(), 16)) {
            skip(in, size);
            readLine(in);
        }
        while (!readLine(in).isEmpty()) {
            // trailer fields
        }
        return head.toString();
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("connection closed mid-response");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    private static void skip(InputStream in, long count) throws IOException {
        for (long i = 0; i < count; i++) {
            if (in.read() < 0) {
                throw new EOFException("connection closed mid-body");
            }
        }
    }
}
