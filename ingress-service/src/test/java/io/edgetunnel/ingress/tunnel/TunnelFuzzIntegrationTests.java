package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.ResetCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Random, truncated and mutated frames over real WebSockets to the tunnel endpoint: at least 100,000
 * inputs, many per connection (an accepted agent's tunnel), each connection closed with the code its
 * first undecodable input calls for; the ingress keeps serving a good agent afterwards.
 */
@IngressTest
class TunnelFuzzIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int INPUTS = 100_000;
    private static final int PER_CONNECTION = 400;
    private static final int HOSTILE_ONE_IN = 150;
    /** The ingress's decoder as configured by {@link IngressTest} (max-frame-bytes 65536, max-routes 4). */
    private static final FrameCodec LOCAL = new FrameCodec(new ProtocolLimits(65536,
            ProtocolLimits.DEFAULTS.maxHeaderCount(), ProtocolLimits.DEFAULTS.maxHeaderBytes(),
            Math.max(ProtocolLimits.DEFAULTS.maxRoutes(), 4), ProtocolLimits.DEFAULTS.maxStringBytes()));

    @Autowired
    TunnelServer server;

    @Autowired
    AgentRegistry registry;

    @Test
    void hundredThousandMutatedFramesEachConnectionClosedWithItsCodeAndAGoodAgentStillServes() {
        Random random = new Random(0x5EED);
        List<byte[]> templates = templates();
        int sent = 0;
        int connections = 0;
        int hostile = 0;
        List<String> mismatches = new ArrayList<>();
        while (sent < INPUTS) {
            CloseCode expected = null;
            try (FakeAgent agent = FakeAgent.registered(server.port(), "fuzz-" + connections, IngressTest.TOKEN, null,
                    "fuzz.test")) {
                for (int i = 0; i < PER_CONNECTION && expected == null; i++) {
                    // mostly Ping/Pong with random payloads (well-formed, the tunnel must stay up), now and
                    // then a hostile mutation of any frame; nothing is sent after the first undecodable
                    // input (more bytes behind a close would make the peer's TCP stack reset the connection
                    // and drop the close frame)
                    byte[] input = random.nextInt(HOSTILE_ONE_IN) == 0
                            ? mutate(templates.get(random.nextInt(templates.size())), random)
                            : pingOrPong(random);
                    Verdict verdict = verdict(input);
                    if (verdict == Verdict.MEANINGFUL) {
                        continue; // a well-formed frame whose effect depends on tunnel state: not an input here
                    }
                    if (verdict == Verdict.UNDECODABLE) {
                        expected = undecodableCode(input);
                        hostile++;
                    }
                    agent.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(input)));
                    sent++;
                }
                if (expected == null) {
                    expected = CloseCode.PROTOCOL_ERROR;
                    agent.sendRaw(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 0})));
                    sent++;
                }
                int status = agent.closeStatus(WAIT);
                if (status != expected.code()) {
                    mismatches.add("connection " + connections + ": closed " + status + ", expected " + expected);
                }
            }
            connections++;
        }

        assertThat(mismatches).isEmpty();
        assertThat(sent).isGreaterThanOrEqualTo(INPUTS);
        assertThat(hostile).as("undecodable inputs among them").isGreaterThan(100);
        try (FakeAgent good = FakeAgent.registered(server.port(), "agent-after-fuzz", IngressTest.TOKEN, null,
                "after-fuzz.test")) {
            assertThat(registry.tunnelCount("after-fuzz.test")).isEqualTo(1);
            good.send(new Frame.Ping(42));
            assertThat(good.await(Frame.Pong.class, WAIT).payload()).isEqualTo(42);
        }
    }

    private enum Verdict {
        HARMLESS,
        MEANINGFUL,
        UNDECODABLE
    }

    /** Harmless: a Ping or Pong (answered or ignored); meaningful: any other well-formed frame. */
    private static Verdict verdict(byte[] input) {
        Frame frame;
        try {
            frame = LOCAL.decode(Unpooled.wrappedBuffer(input));
        } catch (ProtocolException e) {
            return Verdict.UNDECODABLE;
        } catch (RuntimeException e) {
            throw new AssertionError("the decoder must only throw ProtocolException, got " + e, e);
        }
        if (frame instanceof Frame.Data data) {
            ReferenceCountUtil.release(data.content());
        }
        return frame instanceof Frame.Ping || frame instanceof Frame.Pong ? Verdict.HARMLESS : Verdict.MEANINGFUL;
    }

    private static CloseCode undecodableCode(byte[] input) {
        try {
            LOCAL.decode(Unpooled.wrappedBuffer(input));
            throw new AssertionError("decodable");
        } catch (ProtocolException e) {
            return e.closeCode();
        }
    }

    private static byte[] pingOrPong(Random random) {
        Frame frame = random.nextBoolean() ? new Frame.Ping(random.nextLong()) : new Frame.Pong(random.nextLong());
        ByteBuf buf = LOCAL.encode(frame, UnpooledByteBufAllocator.DEFAULT);
        try {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    private static List<byte[]> templates() {
        List<Frame> frames = List.of(
                new Frame.Ping(7),
                new Frame.Pong(9),
                new Frame.WindowUpdate(1, 1024),
                new Frame.Reset(1, ResetCode.CANCEL, "fuzz"),
                new Frame.Drain("fuzz"),
                new Frame.Response(1, 200, List.of(new Header("content-type", "text/plain")), false),
                new Frame.Data(1, Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), false),
                new Frame.Trailers(1, List.of(new Header("x-t", "v"))));
        List<byte[]> encoded = new ArrayList<>();
        for (Frame frame : frames) {
            ByteBuf buf = LOCAL.encode(frame, UnpooledByteBufAllocator.DEFAULT);
            try {
                byte[] bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
                encoded.add(bytes);
            } finally {
                buf.release();
            }
        }
        return encoded;
    }

    /** Random bytes, a truncation, flipped bytes, an extension with junk, or a random length field. */
    private static byte[] mutate(byte[] template, Random random) {
        switch (random.nextInt(6)) {
            case 0: {
                byte[] noise = new byte[random.nextInt(64)];
                random.nextBytes(noise);
                return noise;
            }
            case 1:
                return Arrays.copyOf(template, random.nextInt(template.length));
            case 2: {
                byte[] copy = template.clone();
                int flips = 1 + random.nextInt(3);
                for (int i = 0; i < flips; i++) {
                    copy[random.nextInt(copy.length)] ^= (byte) (1 + random.nextInt(255));
                }
                return copy;
            }
            case 3: {
                byte[] copy = Arrays.copyOf(template, template.length + 1 + random.nextInt(32));
                for (int i = template.length; i < copy.length; i++) {
                    copy[i] = (byte) random.nextInt(256);
                }
                return copy;
            }
            case 4: {
                byte[] copy = template.clone();
                if (copy.length > 2) {
                    copy[1 + random.nextInt(Math.min(5, copy.length - 1))] = (byte) random.nextInt(256);
                }
                return copy;
            }
            default:
                return template.clone();
        }
    }
}
