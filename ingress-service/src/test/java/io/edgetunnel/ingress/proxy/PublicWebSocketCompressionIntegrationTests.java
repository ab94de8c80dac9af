package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.support.EdgeAgents;
import io.edgetunnel.ingress.support.EdgeIngressTest;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Public WebSockets against a decompression bomb, through the real ingress and a protocol-level
 * agent: compression only where a host opted in, and never inflating past the frame limit. Its own
 * context (a property set explicitly), apart from the HTTP edge tests.
 *
 * <p>The public port against hostile clients and misbehaving apps, through the real ingress and a
 * protocol-level agent: each test sends what an attacker would and checks what the app, the client
 * and the next client on the same connection get.
 */
@EdgeIngressTest
@org.springframework.test.context.TestPropertySource(properties = "ingress.proxy.websocket.max-frame-bytes=1MB")
class PublicWebSocketCompressionIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    TunnelServer server;

    @LocalServerPort
    int publicPort;

    @RegisterExtension
    final EdgeAgents agents = new EdgeAgents();

    private FakeAgent agent(FakeAgent.Responder responder, String... hosts) {
        return agents.register(server.port(), responder, hosts);
    }

    // ---------------------------------------------------------------- WebSocket compression

    @Test
    void compressedFrameInflatingPastTheFrameLimitClosesTheSocketInsteadOfExpanding() throws Exception {
        FakeAgent app = agent(EdgeAgents::ok, "bomb.compress.test");
        Upgraded upgraded = upgraded("bomb.compress.test", app);
        try (Socket client = upgraded.socket()) {
            assertThat(upgraded.head()).startsWith("HTTP/1.1 101").containsIgnoringCase("permessage-deflate");

            // 64 MiB of zeros deflate to about 64 KiB: one frame well under the 1 MB frame limit
            client.getOutputStream().write(compressedBinaryFrame(64 << 20));
            client.getOutputStream().flush();

            assertThat(closedWithin(client, WAIT)).as("the ingress ends the socket").isTrue();
        }
        long relayed = app.receivedDataBytes();
        assertThat(relayed).as("never more than one frame limit reaches the app").isLessThanOrEqualTo(1 << 20);
        assertThat(Http.get(publicPort, "bomb.compress.test", "/after").status()).isEqualTo(200);
    }

    @Test
    void compressedFrameWithinTheLimitReachesTheAppInflated() throws Exception {
        FakeAgent app = agent(EdgeAgents::ok, "small.compress.test");
        Upgraded upgraded = upgraded("small.compress.test", app);
        try (Socket client = upgraded.socket()) {
            assertThat(upgraded.head()).containsIgnoringCase("permessage-deflate");
            long before = app.receivedDataBytes();
            client.getOutputStream().write(compressedBinaryFrame(64 * 1024));
            client.getOutputStream().flush();

            org.awaitility.Awaitility.await().atMost(WAIT)
                    .until(() -> app.receivedDataBytes() >= before + 64 * 1024);
        }
    }

    @Test
    void hostsThatDidNotOptInNeverNegotiateCompression() throws Exception {
        FakeAgent app = agent(EdgeAgents::ok, "plain.test");
        Upgraded upgraded = upgraded("plain.test", app);
        try (Socket client = upgraded.socket()) {
            assertThat(upgraded.head()).startsWith("HTTP/1.1 101").doesNotContainIgnoringCase("permessage-deflate");
        }
    }

    /** Sends a WebSocket upgrade offering permessage-deflate, lets the agent accept it, returns the 101. */
    private String upgrade(Socket client, String host, FakeAgent app) throws Exception {
        OutputStream out = client.getOutputStream();
        out.write(("GET /ws HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Frame.Request request = app.await(Frame.Request.class, WAIT);
        app.send(new Frame.Response(request.streamId(), 101, List.of(), false));
        // then a first message from the app: once the client has it, the ingress relays this socket
        app.send(new Frame.Data(request.streamId(), Unpooled.wrappedBuffer(new byte[] {(byte) 0x82, 'h', 'i'}), false));
        String head = readHead(client);
        if (head.startsWith("HTTP/1.1 101")) {
            awaitFirstMessage(client);
        }
        return head;
    }

    private record Upgraded(Socket socket, String head) {}

    /** An upgraded socket on which the app's first message arrived: frames sent now are relayed. */
    private Upgraded upgraded(String host, FakeAgent app) throws Exception {
        Socket client = new Socket("127.0.0.1", publicPort);
        client.setSoTimeout(500);
        return new Upgraded(client, upgrade(client, host, app));
    }

    /**
     * Reads the app's first message: a binary frame (compressed or not, so only the opcode and the
     * length are checked) of at most 125 bytes, unmasked from the server.
     */
    private static void awaitFirstMessage(Socket client) throws Exception {
        int first = readByte(client);
        int length = readByte(client) & 0x7f;
        if ((first & 0x0f) != 0x2) {
            StringBuilder payload = new StringBuilder();
            for (int i = 0; i < length; i++) {
                payload.append(readByte(client)).append(' ');
            }
            throw new AssertionError("the app's first message is no binary frame: " + first + ", payload " + payload);
        }
        for (int i = 0; i < length; i++) {
            readByte(client);
        }
    }

    private static int readByte(Socket client) throws Exception {
        InputStream in = client.getInputStream();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("socket closed before the app's first message");
                }
                return b;
            } catch (SocketTimeoutException e) {
                // poll again
            }
        }
        throw new AssertionError("the app's first message did not arrive within " + WAIT);
    }

    /** A masked, final, binary frame with RSV1 (compressed) whose payload inflates to {@code size} zeros. */
    private static byte[] compressedBinaryFrame(int size) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        byte[] zeros = new byte[Math.min(size, 1 << 20)];
        byte[] buffer = new byte[64 * 1024];
        for (int written = 0; written < size; written += zeros.length) {
            deflater.setInput(zeros);
            while (!deflater.needsInput()) {
                payload.write(buffer, 0, deflater.deflate(buffer, 0, buffer.length, Deflater.NO_FLUSH));
            }
        }
        int n;
        do {
            n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
            payload.write(buffer, 0, n);
        } while (n == buffer.length);
        deflater.end();
        byte[] deflated = payload.toByteArray();
        int length = deflated.length - 4; // permessage-deflate drops the sync flush's 00 00 ff ff
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x80 | 0x40 | 0x2);
        // the shortest length encoding, as RFC 6455 requires (Netty refuses any other)
        if (length <= 125) {
            frame.write(0x80 | length);
        } else if (length <= 0xffff) {
            frame.write(0x80 | 126);
            frame.write(length >>> 8);
            frame.write(length & 0xff);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) length >>> shift) & 0xff);
            }
        }
        frame.write(new byte[4], 0, 4); // an all-zero mask leaves the payload as it is
        frame.write(deflated, 0, length);
        return frame.toByteArray();
    }

    private static String readHead(Socket client) throws Exception {
        InputStream in = client.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && !head.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
            try {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.write(b);
            } catch (SocketTimeoutException e) {
                // keep polling until the deadline
            }
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /** Whether the server closed the connection (EOF, reset, or a close frame) before the deadline. */
    private static boolean closedWithin(Socket client, Duration wait) throws Exception {
        InputStream in = client.getInputStream();
        byte[] buffer = new byte[8192];
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                int read = in.read(buffer);
                if (read < 0) {
                    return true;
                }
                if (read > 0 && (buffer[0] & 0x0f) == 0x8) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // still open: poll again
            } catch (java.net.SocketException e) {
                return true;
            }
        }
        return false;
    }
}
