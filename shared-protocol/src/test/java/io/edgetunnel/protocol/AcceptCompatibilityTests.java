package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The replica fields of ACCEPT (version 2) between peers of either generation: an agent built before
 * them offers versions 1..1 and its decoder refuses trailing bytes, an ingress built before them
 * speaks version 1 only.
 */
class AcceptCompatibilityTests {

    private static final FrameCodec CODEC = new FrameCodec(ProtocolLimits.DEFAULTS);

    /** The version 1 ACCEPT example of docs/protocol.md section 18, as an old ingress sends it. */
    private static final byte[] VERSION_ONE = HexFormat.of().parseHex(
            "020000000000" + "0001" + "0003732d31" + "00040000" + "00040000" + "00000200" + "00004e20");

    @Test
    void anAgentOfferingOnlyVersionOneGetsTheVersionOneLayout() {
        int chosen = ProtocolVersion.negotiate(1, 1);
        assertThat(chosen).isEqualTo(1);

        byte[] sent = SampleFrames.encodeToBytes(new Frame.Accept(chosen, "s-1", 262_144, 262_144, 512, 20_000));

        assertThat(sent).isEqualTo(VERSION_ONE);
        assertThat(OldAgentDecoder.decode(sent)).isEqualTo(new OldAgentDecoder.Accept(1, "s-1", 262_144, 262_144, 512, 20_000));
    }

    @Test
    void anOldAgentCouldNotReadAVersionTwoAcceptWhichIsWhyItNeverGetsOne() {
        byte[] v2 = SampleFrames.encodeToBytes(new Frame.Accept(2, "s-1", 262_144, 262_144, 512, 20_000, "r-a", 2));

        assertThatThrownBy(() -> OldAgentDecoder.decode(v2)).hasMessageContaining("trailing bytes");
        assertThat(ProtocolVersion.negotiate(1, 1)).isLessThan(ProtocolVersion.REPLICA_IN_ACCEPT);
    }

    @Test
    void aNewAgentReadsAnOldIngresssAcceptAsOneUnnamedReplica() {
        Frame.Accept accept = (Frame.Accept) CODEC.decode(Unpooled.wrappedBuffer(VERSION_ONE));

        assertThat(accept.version()).isEqualTo(1);
        assertThat(accept.sessionId()).isEqualTo("s-1");
        assertThat(accept.heartbeatIntervalMillis()).isEqualTo(20_000);
        assertThat(accept.replicaId()).isEmpty();
        assertThat(accept.replicaCount()).isEqualTo(1);
    }

    @Test
    void versionTwoEndsWithReplicaIdThenReplicaCount() {
        Frame.Accept accept = new Frame.Accept(2, "s-1", 262_144, 262_144, 512, 20_000, "r-a", 3);

        byte[] bytes = SampleFrames.encodeToBytes(accept);

        assertThat(HexFormat.of().formatHex(bytes)).isEqualTo(
                "020000000000" + "0002" + "0003732d31" + "00040000" + "00040000" + "00000200" + "00004e20"
                        + "0003722d61" + "00000003");
        assertThat(CODEC.decode(Unpooled.wrappedBuffer(bytes))).isEqualTo(accept);
    }

    @Test
    void aVersionTwoAcceptWithoutItsReplicaFieldsIsMalformedNotDefaulted() {
        byte[] claimsTwo = VERSION_ONE.clone();
        claimsTwo[7] = 2;

        assertThatThrownBy(() -> CODEC.decode(Unpooled.wrappedBuffer(claimsTwo)))
                .isInstanceOfSatisfying(ProtocolException.class,
                        e -> assertThat(e.closeCode()).isEqualTo(CloseCode.PROTOCOL_ERROR))
                .hasMessageContaining("truncated frame");
    }

    @Test
    void aReplicaCountBelowOneIsMalformed() {
        byte[] bytes = SampleFrames.encodeToBytes(new Frame.Accept(2, "s", 1, 1, 1, 1, "r", 1));
        bytes[bytes.length - 1] = 0;

        assertThatThrownBy(() -> CODEC.decode(Unpooled.wrappedBuffer(bytes)))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("replicaCount: 0 (expected: > 0)");
    }

    /** The ACCEPT decoding of the codec before version 2, trailing-bytes rule included. */
    private static final class OldAgentDecoder {

        record Accept(int version, String sessionId, int maxFramePayload, int window, int streams, int heartbeat) {}

        static Accept decode(byte[] bytes) {
            ByteBuf in = Unpooled.wrappedBuffer(bytes);
            if (in.readUnsignedByte() != 0x02) {
                throw new IllegalStateException("not an ACCEPT");
            }
            in.skipBytes(5);
            int version = in.readUnsignedShort();
            int length = in.readUnsignedShort();
            String sessionId = in.readCharSequence(length, StandardCharsets.UTF_8).toString();
            Accept accept = new Accept(version, sessionId, in.readInt(), in.readInt(), in.readInt(), in.readInt());
            if (in.isReadable()) {
                throw new IllegalStateException("ACCEPT frame has " + in.readableBytes() + " trailing bytes (expected: 0)");
            }
            return accept;
        }
    }
}
