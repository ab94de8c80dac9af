package io.edgetunnel.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.agent.support.FakeIngress;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.ResetCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A fake ingress that accepts the agent and then sends random, truncated and mutated frames: at least
 * 100,000 inputs; the agent closes each tunnel with the code its first undecodable input calls for,
 * reconnects, and is still registered and answering at the end.
 */
class AgentFuzzIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int INPUTS = 100_000;
    private static final int PER_CONNECTION = 1000;
    private static final int HOSTILE_ONE_IN = 400;
    private static final FrameCodec LOCAL = new FrameCodec(ProtocolLimits.DEFAULTS);

    @Test
    void hundredThousandMutatedFramesEachTunnelClosedWithItsCodeAndTheAgentKeepsReconnecting() throws Exception {
        Random random = new Random(0xA6E7);
        List<byte[]> templates = templates();
        Map<String, String> properties = new HashMap<>();
        try (FakeIngress ingress = new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 60_000))) {
            properties.put("agent.ingress-uri", ingress.uri());
            properties.put("agent.routes", "fuzz.localhost=http://127.0.0.1:1");
            properties.put("agent.token", "t0ken-under-test");
            properties.put("agent.id", "agent-under-fuzz");
            properties.put("agent.reconnect.min-backoff", "10ms");
            properties.put("agent.reconnect.max-backoff", "20ms");
            try (AgentLauncher agent = AgentLauncher.start(properties)) {
                int sent = 0;
                int hostile = 0;
                int connections = 0;
                List<String> mismatches = new ArrayList<>();
                while (sent < INPUTS) {
                    int index = connections;
                    await().atMost(WAIT).until(() -> ingress.tunnels().size() > index
                            && agent.tunnels().connectedTunnels() == 1);
                    FakeIngress.Tunnel tunnel = ingress.tunnels().get(index);
                    Integer expected = null;
                    for (int i = 0; i < PER_CONNECTION && expected == null; i++) {
                        byte[] input = random.nextInt(HOSTILE_ONE_IN) == 0
                                ? mutate(templates.get(random.nextInt(templates.size())), random)
                                : encode(new Frame.Ping(random.nextLong()));
                        Frame frame;
                        try {
                            frame = LOCAL.decode(Unpooled.wrappedBuffer(input));
                        } catch (ProtocolException e) {
                            expected = e.closeCode().code();
                            hostile++;
                            tunnel.sendRaw(input);
                            sent++;
                            break;
                        }
                        if (frame instanceof Frame.Data data) {
                            ReferenceCountUtil.release(data.content());
                        }
                        if (!(frame instanceof Frame.Ping) && !(frame instanceof Frame.Pong)) {
                            continue; // well-formed and meaningful: its effect depends on state, not an input here
                        }
                        tunnel.sendRaw(input);
                        sent++;
                    }
                    if (expected == null) {
                        expected = 4000;
                        tunnel.sendRaw(new byte[] {(byte) 0x7f, 0, 0, 0, 0, 0, 1});
                        sent++;
                    }
                    await().atMost(WAIT).until(() -> tunnel.closeStatus() != null);
                    if (!expected.equals(tunnel.closeStatus())) {
                        mismatches.add("tunnel " + index + ": closed " + tunnel.closeStatus() + ", expected " + expected);
                    }
                    connections++;
                }

                assertThat(mismatches).isEmpty();
                assertThat(sent).isGreaterThanOrEqualTo(INPUTS);
                assertThat(hostile).isGreaterThan(100);
                int last = connections;
                await().atMost(WAIT).until(() -> ingress.tunnels().size() > last && agent.tunnels().connectedTunnels() == 1);
                FakeIngress.Tunnel fresh = ingress.tunnels().get(last);
                fresh.send(new Frame.Ping(42));
                assertThat(fresh.next(Frame.Pong.class, WAIT).payload()).isEqualTo(42);
            }
        }
    }

    private static byte[] encode(Frame frame) {
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
        List<byte[]> encoded = new ArrayList<>();
        encoded.add(encode(new Frame.Ping(7)));
        encoded.add(encode(new Frame.Pong(9)));
        encoded.add(encode(new Frame.WindowUpdate(1, 1024)));
        encoded.add(encode(new Frame.Reset(1, ResetCode.CANCEL, "fuzz")));
        encoded.add(encode(new Frame.Drain("fuzz")));
        encoded.add(encode(new Frame.Data(1, Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), false)));
        return encoded;
    }

    private static byte[] mutate(byte[] template, Random random) {
        switch (random.nextInt(5)) {
            case 0: {
                byte[] noise = new byte[random.nextInt(64)];
                random.nextBytes(noise);
                return noise;
            }
            case 1:
                return Arrays.copyOf(template, random.nextInt(template.length));
            case 2: {
                byte[] copy = template.clone();
                for (int i = 0, flips = 1 + random.nextInt(3); i < flips; i++) {
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
            default: {
                byte[] copy = template.clone();
                copy[1 + random.nextInt(Math.min(5, copy.length - 1))] = (byte) random.nextInt(256);
                return copy;
            }
        }
    }
}
