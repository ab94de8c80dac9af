package io.edgetunnel.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.agent.config.FrameMasking;
import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.protocol.Frame;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the agent's WebSocket frames look like on the wire: a raw socket plays the ingress's
 * handshake and reads the first frame (the hello) byte by byte, mask key included.
 */
class FrameMaskingIntegrationTests {

    @Test
    void aLoopbackIngressGetsFramesMaskedWithTheZeroKeyAndTheyStillDecode() throws Exception {
        RawFrame hello = firstFrame(Map.of());
        assertThat(hello.masked()).as("client frames are masked frames (RFC 6455 5.3)").isTrue();
        assertThat(hello.maskKey()).containsExactly(0, 0, 0, 0);
        assertThat(hello.decode()).isInstanceOf(Frame.Hello.class);
    }

    @Test
    void randomMaskingPutsAFreshNonZeroKeyOnTheWire() throws Exception {
        RawFrame hello = firstFrame(Map.of("agent.frame-masking", "random"));
        assertThat(hello.masked()).isTrue();
        // a random 32-bit key is all zeros once in 2^32 runs
        assertThat(hello.maskKey()).isNotEqualTo(new byte[4]);
        assertThat(hello.decode()).isInstanceOf(Frame.Hello.class);
    }

    @Test
    void autoUsesTheZeroKeyOnlyWhereNoIntermediaryReadsTheBytes() {
        assertThat(FrameMasking.AUTO.zeroKeyFor(URI.create("wss://ingress.example.com/tunnel"))).isTrue();
        assertThat(FrameMasking.AUTO.zeroKeyFor(URI.create("ws://127.0.0.1:8082/tunnel"))).isTrue();
        assertThat(FrameMasking.AUTO.zeroKeyFor(URI.create("ws://localhost:8082/tunnel"))).isTrue();
        assertThat(FrameMasking.AUTO.zeroKeyFor(URI.create("ws://[::1]:8082/tunnel"))).isTrue();
        assertThat(FrameMasking.AUTO.zeroKeyFor(URI.create("ws://ingress.example.com/tunnel"))).isFalse();
        assertThat(FrameMasking.AUTO.zeroKeyFor(URI.create("ws://10.0.0.7:8082/tunnel"))).isFalse();
        assertThat(FrameMasking.RANDOM.zeroKeyFor(URI.create("wss://ingress.example.com/tunnel"))).isFalse();
        assertThat(FrameMasking.ZERO.zeroKeyFor(URI.create("ws://ingress.example.com/tunnel"))).isTrue();
    }

    private static RawFrame firstFrame(Map<String, String> extra) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            server.setSoTimeout(15_000);
            Map<String, String> properties = new HashMap<>();
            properties.put("agent.ingress-uri", "ws://127.0.0.1:" + server.getLocalPort() + "/tunnel");
            properties.put("agent.routes", "masking.test=http://127.0.0.1:9");
            properties.put("agent.token", "t0ken-under-test");
            properties.put("agent.tunnel-count", "1");
            properties.put("agent.identity.mode", "off");
            properties.putAll(extra);
            try (AgentLauncher agent = AgentLauncher.start(properties); Socket socket = server.accept()) {
                socket.setSoTimeout(15_000);
                DataInputStream in = new DataInputStream(socket.getInputStream());
                acceptUpgrade(in, socket.getOutputStream());
                return RawFrame.read(in);
            }
        }
    }

    private static void acceptUpgrade(InputStream in, OutputStream out) throws Exception {
        String request = readHead(in);
        String key = null;
        for (String line : request.split("\r\n")) {
            if (line.regionMatches(true, 0, "Sec-WebSocket-Key:", 0, 18)) {
                key = line.substring(18).trim();
            }
        }
        assertThat(key).as("upgrade request:\n%s", request).isNotNull();
        String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside the upgrade request");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    record RawFrame(int opcode, boolean masked, byte[] maskKey, byte[] payload) {

        static RawFrame read(DataInputStream in) throws IOException {
            int first = in.readUnsignedByte();
            int second = in.readUnsignedByte();
            long length = second & 0x7f;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
            }
            boolean masked = (second & 0x80) != 0;
            byte[] key = new byte[4];
            if (masked) {
                in.readFully(key);
            }
            byte[] payload = new byte[Math.toIntExact(length)];
            in.readFully(payload);
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= key[i % 4];
            }
            return new RawFrame(first & 0x0f, masked, key, payload);
        }

        Frame decode() {
            assertThat(opcode).as("binary frame").isEqualTo(2);
            return io.edgetunnel.agent.support.FakeIngress.CODEC.decode(Unpooled.wrappedBuffer(payload));
        }
    }
}
