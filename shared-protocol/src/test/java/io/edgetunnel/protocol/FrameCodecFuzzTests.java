package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile input: truncations, random bytes, mutations of valid frames, and inputs just over each
 * limit. The decoder must answer every input with a frame or a {@link ProtocolException}, and hold
 * on to no buffer the caller did not get back.
 */
class FrameCodecFuzzTests {

    private static final long SEED = 0x5EED_2026L;
    private static final int RANDOM_INPUTS = 100_000;
    private static final int MUTATIONS_PER_FRAME = 5_000;

    /** Plain heap buffers: fast under the paranoid leak detector, and never the unreleasable EMPTY_BUFFER. */
    private static final ByteBufAllocator INPUTS = new UnpooledByteBufAllocator(false, true);

    private final FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);

    // ------------------------------------------------------------ truncation

    @Test
    void rejectsEveryTruncationOfEveryControlFrame() {
        int checked = 0;
        for (Frame frame : SampleFrames.controlFrames()) {
            byte[] full = SampleFrames.encodeToBytes(frame);
            for (int length = 0; length < full.length; length++) {
                byte[] prefix = Arrays.copyOf(full, length);
                assertThatThrownBy(() -> decodeAndRelease(prefix))
                        .as("%s truncated to %d of %d bytes", frame, prefix.length, full.length)
                        .isInstanceOfSatisfying(
                                ProtocolException.class,
                                e -> assertThat(e.closeCode()).isEqualTo(CloseCode.PROTOCOL_ERROR));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(1_000);
    }

    /** DATA has no length field: the frame ends with the message, so a cut DATA frame is a shorter one. */
    @Test
    void decodesATruncatedDataFrameAsShorterDataAndRejectsACutHeader() {
        byte[] body = new byte[300];
        new Random(SEED).nextBytes(body);
        byte[] full = SampleFrames.encodeToBytes(SampleFrames.data(17, body, true));
        for (int length = 0; length < full.length; length++) {
            byte[] prefix = Arrays.copyOf(full, length);
            ByteBuf in = input(prefix);
            try {
                if (length < FrameCodec.HEADER_BYTES) {
                    assertThatThrownBy(() -> codec.decode(in))
                            .isInstanceOfSatisfying(
                                    ProtocolException.class,
                                    e -> assertThat(e.closeCode()).isEqualTo(CloseCode.PROTOCOL_ERROR));
                } else {
                    Frame.Data data = (Frame.Data) codec.decode(in);
                    assertThat(data.streamId()).isEqualTo(17);
                    assertThat(data.endStream()).isTrue();
                    assertThat(ByteBufUtil.getBytes(data.content()))
                            .isEqualTo(Arrays.copyOf(body, length - FrameCodec.HEADER_BYTES));
                    data.content().release();
                }
            } finally {
                in.release();
            }
            assertThat(in.refCnt()).isZero();
        }
    }

    // ------------------------------------------------------------ random input

    @Test
    void answersRandomBytesWithAFrameOrAProtocolException() {
        Random random = new Random(SEED);
        List<FrameType> types = List.of(FrameType.values());
        Outcomes outcomes = new Outcomes();
        for (int i = 0; i < RANDOM_INPUTS; i++) {
            byte[] bytes = new byte[random.nextInt(i % 100 == 0 ? 2_000 : 48)];
            random.nextBytes(bytes);
            if (bytes.length > 0 && random.nextInt(4) != 0) {
                // mostly a known type with a plausible stream id, so the payload decoders get exercised
                bytes[0] = (byte) types.get(random.nextInt(types.size())).code;
                if (bytes.length >= FrameCodec.HEADER_BYTES && random.nextBoolean()) {
                    int streamId = random.nextBoolean() ? 0 : random.nextInt(16) + 1;
                    bytes[2] = 0;
                    bytes[3] = 0;
                    bytes[4] = 0;
                    bytes[5] = (byte) streamId;
                }
            }
            outcomes.decode(codec, bytes);
        }
        assertThat(outcomes.total()).isEqualTo(RANDOM_INPUTS);
        assertThat(outcomes.frames).as("some random inputs are valid frames").isPositive();
        assertThat(outcomes.errors).isPositive();
    }

    @Test
    void answersMutatedValidFramesWithAFrameOrAProtocolException() {
        Random random = new Random(SEED + 1);
        List<byte[]> valid = new ArrayList<>();
        for (Frame frame : SampleFrames.controlFrames()) {
            valid.add(SampleFrames.encodeToBytes(frame));
        }
        valid.add(SampleFrames.encodeToBytes(SampleFrames.data(5, SampleFrames.utf8("{\"ok\":true}"), false)));
        Outcomes outcomes = new Outcomes();
        for (byte[] original : valid) {
            for (int i = 0; i < MUTATIONS_PER_FRAME; i++) {
                outcomes.decode(codec, mutate(original, random));
            }
        }
        assertThat(outcomes.total()).isEqualTo(valid.size() * MUTATIONS_PER_FRAME);
        assertThat(outcomes.frames).isPositive();
        assertThat(outcomes.errors).isPositive();
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] bytes = original.clone();
        switch (random.nextInt(6)) {
            case 0 -> bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
            case 1 -> {
                int changes = 1 + random.nextInt(8);
                for (int c = 0; c < changes; c++) {
                    bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                }
            }
            case 2 -> {
                // a length or count field (any u16 past the header) set to something extreme
                if (bytes.length > FrameCodec.HEADER_BYTES + 1) {
                    int at = FrameCodec.HEADER_BYTES + random.nextInt(bytes.length - FrameCodec.HEADER_BYTES - 1);
                    int value = random.nextBoolean() ? 0xFFFF : random.nextInt(0x10000);
                    bytes[at] = (byte) (value >>> 8);
                    bytes[at + 1] = (byte) value;
                }
            }
            case 3 -> {
                int from = random.nextInt(bytes.length);
                int to = from + random.nextInt(bytes.length - from + 1);
                byte[] shorter = new byte[bytes.length - (to - from)];
                System.arraycopy(bytes, 0, shorter, 0, from);
                System.arraycopy(bytes, to, shorter, from, bytes.length - to);
                bytes = shorter;
            }
            case 4 -> {
                byte[] extra = new byte[1 + random.nextInt(16)];
                random.nextBytes(extra);
                int at = random.nextInt(bytes.length + 1);
                byte[] longer = new byte[bytes.length + extra.length];
                System.arraycopy(bytes, 0, longer, 0, at);
                System.arraycopy(extra, 0, longer, at, extra.length);
                System.arraycopy(bytes, at, longer, at + extra.length, bytes.length - at);
                bytes = longer;
            }
            default -> bytes[0] = (byte) random.nextInt(256);
        }
        return bytes;
    }

    /** Tallies outcomes and fails on anything but a frame or a ProtocolException, or on a leak. */
    private static final class Outcomes {
        int frames;
        int errors;

        int total() {
            return frames + errors;
        }

        void decode(FrameCodec codec, byte[] bytes) {
            ByteBuf in = input(bytes);
            try {
                Frame frame = codec.decode(in);
                assertThat(frame).isNotNull();
                if (frame instanceof Frame.Data data) {
                    data.content().release();
                }
                frames++;
            } catch (ProtocolException e) {
                assertThat(e.closeCode()).isIn(CloseCode.PROTOCOL_ERROR, CloseCode.FRAME_TOO_LARGE);
                assertThat(e.getMessage()).isNotBlank();
                errors++;
            } catch (RuntimeException | Error e) {
                throw new AssertionError("decode threw " + e + " for " + ByteBufUtil.hexDump(bytes), e);
            } finally {
                in.release();
            }
            if (in.refCnt() != 0) {
                fail("decode kept a reference to its input " + ByteBufUtil.hexDump(bytes));
            }
        }
    }

    // ------------------------------------------------------------ limits

    @Test
    void rejectsFrameLargerThanLimitWithFrameTooLarge() {
        byte[] atLimit = new byte[ProtocolLimits.DEFAULT_MAX_FRAME_BYTES];
        atLimit[0] = 0x12;
        atLimit[5] = 1;
        ByteBuf ok = Unpooled.wrappedBuffer(atLimit);
        Frame.Data data = (Frame.Data) codec.decode(ok);
        assertThat(data.content().readableBytes()).isEqualTo(ProtocolLimits.DEFAULTS.maxDataPayload());
        data.content().release();
        ok.release();

        byte[] overLimit = Arrays.copyOf(atLimit, atLimit.length + 1);
        assertFrameTooLarge(() -> decodeAndRelease(overLimit), "frame of 262145 bytes (expected: <= 262144)");
    }

    @Test
    void checksTheFrameSizeBeforeTheType() {
        byte[] huge = new byte[ProtocolLimits.DEFAULT_MAX_FRAME_BYTES + 1];
        huge[0] = (byte) 0xEE;
        assertFrameTooLarge(() -> decodeAndRelease(huge), "frame of");
    }

    @Test
    void rejectsTooManyHeadersWithFrameTooLarge() {
        List<Header> atLimit = Collections.nCopies(200, new Header("x-h", "v"));
        assertThat(roundTrip(new Frame.Response(1, 200, atLimit, false))).isInstanceOf(Frame.Response.class);

        List<Header> overLimit = Collections.nCopies(201, new Header("x-h", "v"));
        for (Frame frame : List.of(
                new Frame.Request(1, "GET", "/", "h", "/", overLimit, true),
                new Frame.Response(1, 200, overLimit, false),
                new Frame.Trailers(1, overLimit))) {
            assertFrameTooLarge(() -> roundTrip(frame), "201 header fields (expected: <= 200)");
        }
    }

    @Test
    void rejectsHeaderBlockLargerThanLimitWithFrameTooLarge() {
        String value = "v".repeat(16 * 1024 - 10);
        List<Header> headers = List.of(
                new Header("a", value), new Header("b", value), new Header("c", value), new Header("d", value),
                new Header("e", value));
        assertFrameTooLarge(
                () -> roundTrip(new Frame.Response(1, 200, headers, false)),
                "header block over 65536 bytes");
    }

    @Test
    void countsHeaderBytesInUtf8NotInCharacters() {
        // 5 values of 5,000 three-byte characters: 25,000 chars but 75,000 bytes on the wire
        String value = "€".repeat(5_000);
        List<Header> headers = List.of(
                new Header("a", value), new Header("b", value), new Header("c", value), new Header("d", value),
                new Header("e", value));
        assertFrameTooLarge(
                () -> roundTrip(new Frame.Response(1, 200, headers, false)),
                "header block over 65536 bytes");
    }

    @Test
    void acceptsAHeaderBlockExactlyAtTheLimit() {
        FrameCodec small = new FrameCodec(new ProtocolLimits(4096, 10, 100, 2, 64));
        List<Header> headers = List.of(new Header("n", "v".repeat(49)), new Header("x", "y".repeat(49)));
        ByteBuf encoded = small.encode(new Frame.Trailers(1, headers), ByteBufAllocator.DEFAULT);
        try {
            assertThat(small.decode(encoded)).isEqualTo(new Frame.Trailers(1, headers));
        } finally {
            encoded.release();
        }
        List<Header> oneByteMore = List.of(new Header("n", "v".repeat(49)), new Header("x", "y".repeat(50)));
        ByteBuf over = small.encode(new Frame.Trailers(1, oneByteMore), ByteBufAllocator.DEFAULT);
        try {
            assertFrameTooLarge(() -> small.decode(over), "header block over 100 bytes");
        } finally {
            over.release();
        }
    }

    @Test
    void rejectsTooManyRoutesWithFrameTooLarge() {
        List<RouteClaim> routes = new ArrayList<>();
        for (int i = 0; i < 257; i++) {
            routes.add(RouteClaim.host("app-" + i + ".example.com"));
        }
        Frame.Hello atLimit = new Frame.Hello(1, 1, "a", "", "", routes.subList(0, 256), Map.of());
        assertThat(roundTrip(atLimit)).isEqualTo(atLimit);

        Frame.Hello overLimit = new Frame.Hello(1, 1, "a", "", "", routes, Map.of());
        assertFrameTooLarge(() -> roundTrip(overLimit), "hello claims 257 routes (expected: <= 256)");
    }

    @Test
    void rejectsTooManyHelloAttributesWithFrameTooLarge() {
        Map<String, String> attributes = new HashMap<>();
        for (int i = 0; i < 201; i++) {
            attributes.put("k" + i, "v");
        }
        Frame.Hello hello = new Frame.Hello(1, 1, "a", "", "", List.of(), attributes);
        assertFrameTooLarge(() -> roundTrip(hello), "hello has 201 attributes (expected: <= 200)");
    }

    @Test
    void rejectsStringLongerThanLimitWithFrameTooLarge() {
        String atLimit = "é".repeat(8 * 1024);
        assertThat(roundTrip(new Frame.Drain(atLimit))).isEqualTo(new Frame.Drain(atLimit));

        String overLimit = atLimit + "x";
        for (Frame frame : List.of(
                new Frame.Drain(overLimit),
                new Frame.Hello(1, 1, "a", overLimit, "", List.of(), Map.of()),
                new Frame.Request(1, "GET", overLimit, "h", "/", List.of(), true),
                new Frame.Response(1, 200, List.of(new Header("x", overLimit)), true),
                new Frame.Reset(1, ResetCode.CANCEL, overLimit))) {
            assertFrameTooLarge(() -> roundTrip(frame), "string of 16385 bytes (expected: <= 16384)");
        }
    }

    @Test
    void rejectsAStringLengthBeyondTheLimitBeforeReadingIt() {
        byte[] bytes = {0x22, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF};
        assertFrameTooLarge(() -> decodeAndRelease(bytes), "string of 65535 bytes (expected: <= 16384)");
    }

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x04, 0x0F, 0x16, 0x24, 0x7F, 0x80, 0xFF})
    void rejectsUnknownTypeWithProtocolError(int type) {
        byte[] bytes = {(byte) type, 0, 0, 0, 0, 0, 0, 0};
        assertProtocolError(() -> decodeAndRelease(bytes), "unknown frame type 0x" + Integer.toHexString(type));
    }

    @Test
    void rejectsEveryUnassignedTypeByte() {
        int rejected = 0;
        for (int type = 0; type < 256; type++) {
            if (FrameType.of(type) == null) {
                byte[] bytes = {(byte) type, 0, 0, 0, 0, 1};
                assertProtocolError(() -> decodeAndRelease(bytes), "unknown frame type");
                rejected++;
            }
        }
        assertThat(rejected).isEqualTo(256 - FrameType.values().length);
    }

    @ParameterizedTest
    @EnumSource(
            value = FrameType.class,
            names = {"REQUEST", "RESPONSE", "DATA", "WINDOW_UPDATE", "RESET", "TRAILERS"})
    void rejectsStreamFrameOnStreamZeroOrANegativeIdWithProtocolError(FrameType type) {
        for (int streamId : new int[] {0, -1, Integer.MIN_VALUE}) {
            ByteBuf raw = Unpooled.buffer().writeByte(type.code).writeByte(0).writeInt(streamId).writeZero(16);
            try {
                assertProtocolError(() -> codec.decode(raw), "stream id " + streamId + " (expected: > 0)");
            } finally {
                raw.release();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = FrameType.class,
            names = {"HELLO", "ACCEPT", "REJECT", "PING", "PONG", "DRAIN", "ROUTE_HEALTH"})
    void rejectsConnectionFrameOnAStreamWithProtocolError(FrameType type) {
        ByteBuf raw = Unpooled.buffer().writeByte(type.code).writeByte(0).writeInt(1).writeZero(16);
        try {
            assertProtocolError(() -> codec.decode(raw), "stream id 1 (expected: 0)");
        } finally {
            raw.release();
        }
    }

    @Test
    void rejectsTrailingBytesAfterEveryControlFrameWithProtocolError() {
        for (Frame frame : SampleFrames.controlFrames()) {
            byte[] full = SampleFrames.encodeToBytes(frame);
            byte[] longer = Arrays.copyOf(full, full.length + 1);
            assertProtocolError(() -> decodeAndRelease(longer), "1 trailing bytes (expected: 0)");
        }
    }

    @Test
    void rejectsFieldsThatBreakRecordInvariantsWithProtocolError() {
        byte[] status = SampleFrames.encodeToBytes(new Frame.Response(1, 200, List.of(), true));
        status[6] = 0;
        status[7] = 99;
        assertProtocolError(() -> decodeAndRelease(status), "RESPONSE frame: status: 99 (expected: 100..999)");

        byte[] increment = SampleFrames.encodeToBytes(new Frame.WindowUpdate(1, 1));
        increment[9] = 0;
        assertProtocolError(() -> decodeAndRelease(increment), "increment: 0 (expected: > 0)");

        byte[] negativeIncrement = SampleFrames.encodeToBytes(new Frame.WindowUpdate(1, 1));
        negativeIncrement[6] = (byte) 0x80;
        assertProtocolError(() -> decodeAndRelease(negativeIncrement), "expected: > 0");

        byte[] versions = SampleFrames.encodeToBytes(new Frame.Hello(1, 2, "a", "", "", List.of(), Map.of()));
        versions[7] = 3;
        assertProtocolError(() -> decodeAndRelease(versions), "minVersion: 3 (expected: <= maxVersion 2)");

        byte[] method = SampleFrames.encodeToBytes(new Frame.Request(1, "G", "/", "h", "/", List.of(), true));
        method[7] = 0;
        assertProtocolError(() -> decodeAndRelease(withoutByteAt(method, 8)), "method: \"\" (expected: non-empty)");

        byte[] window = SampleFrames.encodeToBytes(new Frame.Accept(1, "", 1, 1, 1, 1));
        window[window.length - 1] = 0;
        assertProtocolError(() -> decodeAndRelease(window), "heartbeatIntervalMillis: 0 (expected: > 0)");
    }

    @Test
    void rejectsAnInvalidRouteInHelloOrRouteHealthWithProtocolError() {
        byte[] health = SampleFrames.encodeToBytes(new Frame.RouteHealth(RouteClaim.host("ab.example.com"), true));
        health[8] = ' ';
        assertProtocolError(() -> decodeAndRelease(health), "expected: a host name or *.suffix");

        byte[] prefix = SampleFrames.encodeToBytes(new Frame.RouteHealth(new RouteClaim("a.example.com", "/x"), true));
        prefix[prefix.length - 3] = 'x';
        assertProtocolError(() -> decodeAndRelease(prefix), "expected: starts with /");

        byte[] hello = SampleFrames.encodeToBytes(
                new Frame.Hello(1, 1, "", "", "", List.of(RouteClaim.host("ab.example.com")), Map.of()));
        hello[6 + 4 + 6 + 2 + 2] = '*';
        assertProtocolError(() -> decodeAndRelease(hello), "expected: a host name or *.suffix");
    }

    @Test
    void rejectsABooleanOtherThanZeroOrOneWithProtocolError() {
        byte[] bytes = SampleFrames.encodeToBytes(new Frame.RouteHealth(RouteClaim.host("a.example.com"), true));
        bytes[bytes.length - 1] = 2;
        assertProtocolError(() -> decodeAndRelease(bytes), "boolean 2 (expected: 0 or 1)");
    }

    @Test
    void rejectsAnEmptyHeaderNameWithProtocolError() {
        ByteBuf raw = Unpooled.buffer().writeByte(0x15).writeByte(1).writeInt(1).writeShort(1);
        raw.writeShort(0).writeShort(1).writeByte('v');
        try {
            assertProtocolError(() -> codec.decode(raw), "name: \"\" (expected: non-empty)");
        } finally {
            raw.release();
        }
    }

    @Test
    void honoursConfiguredLimitsSmallerThanTheDefaults() {
        FrameCodec small = new FrameCodec(new ProtocolLimits(1024, 2, 64, 1, 64));
        byte[] bigDrain = SampleFrames.encodeToBytes(new Frame.Drain("x".repeat(1020)));
        assertFrameTooLarge(() -> {
            ByteBuf in = Unpooled.wrappedBuffer(bigDrain);
            try {
                small.decode(in);
            } finally {
                in.release();
            }
        }, "frame of 1028 bytes (expected: <= 1024)");
        byte[] threeHeaders = SampleFrames.encodeToBytes(new Frame.Trailers(
                1, List.of(new Header("a", ""), new Header("b", ""), new Header("c", ""))));
        assertFrameTooLarge(() -> {
            ByteBuf in = Unpooled.wrappedBuffer(threeHeaders);
            try {
                small.decode(in);
            } finally {
                in.release();
            }
        }, "3 header fields (expected: <= 2)");
    }

    // ------------------------------------------------------------ helpers

    private Frame roundTrip(Frame frame) {
        ByteBuf encoded = codec.encode(frame, ByteBufAllocator.DEFAULT);
        try {
            return codec.decode(encoded);
        } finally {
            encoded.release();
        }
    }

    private void decodeAndRelease(byte[] bytes) {
        ByteBuf in = input(bytes);
        try {
            Frame frame = codec.decode(in);
            if (frame instanceof Frame.Data data) {
                data.content().release();
            }
        } finally {
            in.release();
        }
    }

    private static ByteBuf input(byte[] bytes) {
        return INPUTS.heapBuffer(bytes.length).writeBytes(bytes);
    }

    private static byte[] withoutByteAt(byte[] bytes, int index) {
        byte[] out = new byte[bytes.length - 1];
        System.arraycopy(bytes, 0, out, 0, index);
        System.arraycopy(bytes, index + 1, out, index, bytes.length - index - 1);
        return out;
    }

    private static void assertFrameTooLarge(ThrowingCallable call, String message) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.closeCode()).isEqualTo(CloseCode.FRAME_TOO_LARGE))
                .hasMessageContaining(message);
    }

    private static void assertProtocolError(ThrowingCallable call, String message) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.closeCode()).isEqualTo(CloseCode.PROTOCOL_ERROR))
                .hasMessageContaining(message);
    }
}
