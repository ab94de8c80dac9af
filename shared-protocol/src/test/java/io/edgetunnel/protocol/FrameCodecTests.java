package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class FrameCodecTests {

    private final FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);
    private final TrackingAllocator alloc = new TrackingAllocator();

    @AfterEach
    void everyAllocatedBufferIsReleased() {
        alloc.assertAllReleased();
    }

    static List<Frame> controlFrames() {
        return SampleFrames.controlFrames();
    }

    @ParameterizedTest
    @MethodSource("controlFrames")
    void roundTripsEveryControlFrameType(Frame frame) {
        ByteBuf encoded = codec.encode(frame, alloc);
        try {
            Frame decoded = codec.decode(encoded);
            assertThat(decoded).isEqualTo(frame);
            assertThat(decoded.streamId()).isEqualTo(frame.streamId());
            assertThat(encoded.readerIndex()).as("decode does not consume its input").isZero();
        } finally {
            encoded.release();
        }
        assertThat(encoded.refCnt()).isZero();
    }

    @Test
    void coversEveryFrameTypeWithSamples() {
        List<FrameType> sampled = controlFrames().stream()
                .map(frame -> FrameType.of(SampleFrames.encodeToBytes(frame)[0]))
                .toList();
        assertThat(sampled).containsAll(List.of(FrameType.values()).stream()
                .filter(type -> type != FrameType.DATA)
                .toList());
    }

    @Test
    void keepsHeaderOrderCaseAndDuplicates() {
        List<Header> headers = List.of(
                new Header("Set-Cookie", "a=1"),
                new Header("set-cookie", "b=2"),
                new Header("X-Trace", "1"),
                new Header("SET-COOKIE", "a=1"));
        Frame.Response decoded = (Frame.Response) roundTrip(new Frame.Response(3, 200, headers, false));
        assertThat(decoded.headers()).containsExactlyElementsOf(headers);
    }

    @Test
    void roundTripsUnicodeStringsIncludingSupplementaryCharacters() {
        String value = "Grüße, Καλημέρα, こんにちは, 😀🚀, \u0000 nul";
        Frame.Reset decoded = (Frame.Reset) roundTrip(new Frame.Reset(1, ResetCode.UPSTREAM_ERROR, value));
        assertThat(decoded.message()).isEqualTo(value);
    }

    @Test
    void encodesStringsAsU16LengthThenUtf8() {
        byte[] bytes = SampleFrames.encodeToBytes(new Frame.Drain("é"));
        assertThat(bytes).containsExactly(0x22, 0, 0, 0, 0, 0, 0, 2, 0xC3 - 256, 0xA9 - 256);
    }

    @Test
    void encodesFrameHeaderAsTypeFlagsAndBigEndianStreamId() {
        byte[] bytes = SampleFrames.encodeToBytes(new Frame.WindowUpdate(0x01020304, 0x7F000001));
        assertThat(bytes).containsExactly(0x13, 0, 1, 2, 3, 4, 0x7F, 0, 0, 1);
    }

    @Test
    void setsEndStreamFlagOnlyWhenTheFrameEndsItsDirection() {
        assertThat(flags(new Frame.Request(1, "GET", "/", "h", "/", List.of(), true))).isEqualTo(0x01);
        assertThat(flags(new Frame.Request(1, "GET", "/", "h", "/", List.of(), false))).isZero();
        assertThat(flags(new Frame.Response(1, 200, List.of(), true))).isEqualTo(0x01);
        assertThat(flags(new Frame.Trailers(1, List.of()))).isEqualTo(0x01);
        assertThat(flags(new Frame.WindowUpdate(1, 1))).isZero();
        assertThat(flags(new Frame.Ping(1))).isZero();
    }

    @Test
    void acceptsTrailersWithoutEndStreamFlagAsEndingTheDirection() {
        byte[] bytes = SampleFrames.encodeToBytes(new Frame.Trailers(1, List.of(new Header("a", "b"))));
        bytes[1] = 0;
        assertThat(decodeBytes(bytes)).isEqualTo(new Frame.Trailers(1, List.of(new Header("a", "b"))));
    }

    @Test
    void ignoresUnknownFlagBits() {
        byte[] bytes = SampleFrames.encodeToBytes(new Frame.Response(1, 200, List.of(), false));
        bytes[1] = (byte) 0xFE;
        assertThat(decodeBytes(bytes)).isEqualTo(new Frame.Response(1, 200, List.of(), false));
    }

    @Test
    void roundTripsHelloAttributesAsAMap() {
        Frame.Hello hello = new Frame.Hello(
                1, 1, "a", "", "", List.of(), Map.of("k1", "v1", "ключ", "значение", "empty", ""));
        assertThat(roundTrip(hello)).isEqualTo(hello);
    }

    @Test
    void keepsTheLastValueOfADuplicatedHelloAttribute() {
        ByteBuf raw = Unpooled.buffer();
        raw.writeByte(0x01).writeByte(0).writeInt(0);
        raw.writeShort(1).writeShort(1);
        writeString(raw, "agent");
        writeString(raw, "");
        writeString(raw, "");
        raw.writeShort(0);
        raw.writeShort(2);
        writeString(raw, "k");
        writeString(raw, "first");
        writeString(raw, "k");
        writeString(raw, "second");
        try {
            Frame.Hello hello = (Frame.Hello) codec.decode(raw);
            assertThat(hello.attributes()).containsExactly(Map.entry("k", "second"));
        } finally {
            raw.release();
        }
    }

    @Test
    void roundTripsEmptyDataAsABareHeader() {
        ByteBuf content = alloc.buffer(0);
        ByteBuf encoded = codec.encode(new Frame.Data(5, content, true), alloc);
        assertThat(content.refCnt()).as("empty content is released by encode").isZero();
        try {
            assertThat(ByteBufUtil.getBytes(encoded)).containsExactly(0x12, 0x01, 0, 0, 0, 5);
            Frame.Data decoded = (Frame.Data) codec.decode(encoded);
            assertThat(decoded.streamId()).isEqualTo(5);
            assertThat(decoded.endStream()).isTrue();
            assertThat(decoded.content().readableBytes()).isZero();
            decoded.content().release();
        } finally {
            encoded.release();
        }
    }

    @Test
    void roundTripsLargestDataThatFitsTheFrameLimit() {
        byte[] bytes = new byte[ProtocolLimits.DEFAULTS.maxDataPayload()];
        new Random(42).nextBytes(bytes);
        ByteBuf content = alloc.buffer(bytes.length).writeBytes(bytes);
        ByteBuf encoded = codec.encode(new Frame.Data(7, content, false), alloc);
        assertThat(encoded.readableBytes()).isEqualTo(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES);
        Frame.Data decoded = (Frame.Data) codec.decode(encoded);
        encoded.release();
        assertThat(decoded.streamId()).isEqualTo(7);
        assertThat(decoded.endStream()).isFalse();
        assertThat(ByteBufUtil.getBytes(decoded.content())).isEqualTo(bytes);
        assertThat(content.refCnt()).as("the decoded slice keeps the content alive").isOne();
        decoded.content().release();
        assertThat(content.refCnt()).isZero();
    }

    @Test
    void encodesDataWithoutCopyingTheContent() {
        ByteBuf content = alloc.heapBuffer(16).writeBytes(SampleFrames.utf8("hello, tunnel!"));
        ByteBuf encoded = codec.encode(new Frame.Data(1, content, false), alloc);
        try {
            assertThat(encoded).isInstanceOf(CompositeByteBuf.class);
            CompositeByteBuf composite = (CompositeByteBuf) encoded;
            assertThat(composite.numComponents()).isEqualTo(2);
            assertThat(composite.component(1).array()).isSameAs(content.array());
            assertThat(content.refCnt()).as("encode takes over the frame's reference").isOne();

            content.setByte(0, 'J');
            assertThat(encoded.getByte(FrameCodec.HEADER_BYTES)).isEqualTo((byte) 'J');
        } finally {
            encoded.release();
        }
        assertThat(content.refCnt()).isZero();
    }

    @Test
    void decodesDataAsASliceSharingTheInputMemory() {
        byte[] wire = {0x12, 0x00, 0, 0, 0, 9, 'a', 'b', 'c'};
        ByteBuf in = alloc.heapBuffer(wire.length).writeBytes(wire);
        Frame.Data decoded = (Frame.Data) codec.decode(in);
        try {
            assertThat(in.refCnt()).as("the slice holds its own reference").isEqualTo(2);
            assertThat(decoded.content().hasArray()).isTrue();
            assertThat(decoded.content().array()).isSameAs(in.array());
            assertThat(decoded.content().arrayOffset() + decoded.content().readerIndex())
                    .isEqualTo(in.arrayOffset() + FrameCodec.HEADER_BYTES);

            in.setByte(FrameCodec.HEADER_BYTES, 'X');
            assertThat(decoded.content().getByte(decoded.content().readerIndex())).isEqualTo((byte) 'X');
        } finally {
            in.release();
            assertThat(decoded.content().refCnt()).isOne();
            decoded.content().release();
        }
        assertThat(in.refCnt()).isZero();
    }

    @Test
    void decodesDataFromDirectMemoryAtTheSameAddress() {
        ByteBuf in = alloc.directBuffer(10).writeBytes(new byte[] {0x12, 0x01, 0, 0, 0, 3, 1, 2, 3, 4});
        Frame.Data decoded = (Frame.Data) codec.decode(in);
        in.release();
        try {
            if (in.hasMemoryAddress()) {
                assertThat(decoded.content().memoryAddress()).isEqualTo(in.memoryAddress() + FrameCodec.HEADER_BYTES);
            }
            assertThat(decoded.content().nioBuffer().isDirect()).isTrue();
            assertThat(ByteBufUtil.getBytes(decoded.content())).containsExactly(1, 2, 3, 4);
        } finally {
            decoded.content().release();
        }
    }

    @Test
    void decodesFromTheReaderIndexWithoutMovingIt() {
        byte[] frame = SampleFrames.encodeToBytes(new Frame.Ping(77));
        ByteBuf in = alloc.heapBuffer(frame.length + 3).writeBytes(new byte[] {9, 9, 9}).writeBytes(frame);
        in.skipBytes(3);
        try {
            assertThat(codec.decode(in)).isEqualTo(new Frame.Ping(77));
            assertThat(in.readerIndex()).isEqualTo(3);
        } finally {
            in.release();
        }
    }

    @Test
    void decodesDataFromACompositeInput() {
        ByteBuf encoded = codec.encode(SampleFrames.data(3, SampleFrames.utf8("composite body"), true), alloc);
        Frame.Data decoded = (Frame.Data) codec.decode(encoded);
        encoded.release();
        try {
            assertThat(decoded.content().toString(StandardCharsets.UTF_8)).isEqualTo("composite body");
            assertThat(decoded.endStream()).isTrue();
        } finally {
            decoded.content().release();
        }
        assertThat(encoded.refCnt()).isZero();
    }

    @Test
    void releasesTheOutputBufferWhenAStringCannotBeEncoded() {
        String tooLong = "x".repeat(70_000);
        assertThatThrownBy(() -> codec.encode(new Frame.Drain(tooLong), alloc))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: <= 65535");
        assertThat(alloc.allocations()).isPositive();
    }

    @Test
    void refusesToEncodeMoreHeadersThanACountCanHold() {
        List<Header> headers = Collections.nCopies(65_536, new Header("a", ""));
        assertThatThrownBy(() -> codec.encode(new Frame.Trailers(1, headers), alloc))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("headers: 65536 (expected: <= 65535)");
    }

    @Test
    void decodesUnknownRejectAndResetCodesAsTheirFallbacks() {
        byte[] reject = SampleFrames.encodeToBytes(new Frame.Reject(RejectReason.RATE_LIMITED, "m"));
        reject[6] = 0x7F;
        assertThat(((Frame.Reject) decodeBytes(reject)).reason()).isEqualTo(RejectReason.INVALID_HELLO);

        byte[] reset = SampleFrames.encodeToBytes(new Frame.Reset(1, ResetCode.CANCEL, "m"));
        reset[6] = 0x7F;
        assertThat(((Frame.Reset) decodeBytes(reset)).code()).isEqualTo(ResetCode.INTERNAL_ERROR);
    }

    @Test
    void replacesMalformedUtf8WithTheReplacementCharacter() {
        byte[] bytes = {0x22, 0, 0, 0, 0, 0, 0, 2, (byte) 0xC3, (byte) 0x28};
        assertThat(((Frame.Drain) decodeBytes(bytes)).reason()).isEqualTo("\uFFFD(");
    }

    private Frame roundTrip(Frame frame) {
        ByteBuf encoded = codec.encode(frame, alloc);
        try {
            return codec.decode(encoded);
        } finally {
            encoded.release();
        }
    }

    private Frame decodeBytes(byte[] bytes) {
        ByteBuf in = Unpooled.wrappedBuffer(bytes);
        try {
            return codec.decode(in);
        } finally {
            in.release();
        }
    }

    private static int flags(Frame frame) {
        return SampleFrames.encodeToBytes(frame)[1];
    }

    static void writeString(ByteBuf out, String value) {
        byte[] bytes = SampleFrames.utf8(value);
        out.writeShort(bytes.length).writeBytes(bytes);
    }
}
