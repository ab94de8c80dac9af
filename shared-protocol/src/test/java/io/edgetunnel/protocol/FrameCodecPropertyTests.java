package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Every frame the records allow survives encode → decode unchanged, and no buffer outlives it. */
class FrameCodecPropertyTests {

    private final FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);

    @Property(tries = 2_000)
    void roundTripsEveryControlFrame(@ForAll("controlFrames") Frame frame) {
        TrackingAllocator alloc = new TrackingAllocator();
        ByteBuf encoded = codec.encode(frame, alloc);
        try {
            assertThat(encoded.readableBytes()).isLessThanOrEqualTo(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES);
            assertThat(encoded.getInt(2)).as("stream id, big-endian at offset 2").isEqualTo(frame.streamId());
            assertThat(codec.decode(encoded)).isEqualTo(frame);
        } finally {
            encoded.release();
        }
        alloc.assertAllReleased();
    }

    @Property(tries = 500)
    void roundTripsDataOfAnySize(
            @ForAll @IntRange(min = 1) int streamId,
            @ForAll @Size(max = 70_000) byte[] content,
            @ForAll boolean endStream) {
        TrackingAllocator alloc = new TrackingAllocator();
        ByteBuf body = alloc.buffer(content.length).writeBytes(content);
        ByteBuf encoded = codec.encode(new Frame.Data(streamId, body, endStream), alloc);
        Frame.Data decoded;
        try {
            byte[] wire = ByteBufUtil.getBytes(encoded);
            assertThat(wire).hasSize(FrameCodec.HEADER_BYTES + content.length);
            assertThat(wire[0]).isEqualTo((byte) 0x12);
            assertThat(wire[1]).isEqualTo((byte) (endStream ? 0x01 : 0x00));
            decoded = (Frame.Data) codec.decode(encoded);
        } finally {
            encoded.release();
        }
        try {
            assertThat(decoded.streamId()).isEqualTo(streamId);
            assertThat(decoded.endStream()).isEqualTo(endStream);
            assertThat(ByteBufUtil.getBytes(decoded.content())).isEqualTo(content);
        } finally {
            decoded.content().release();
        }
        alloc.assertAllReleased();
    }

    @Property(tries = 3_000)
    void answersAnyBytesWithAFrameOrAProtocolException(@ForAll @Size(max = 64) byte[] bytes) {
        ByteBuf in = Unpooled.buffer(bytes.length).writeBytes(bytes);
        try {
            Frame frame = codec.decode(in);
            if (frame instanceof Frame.Data data) {
                data.content().release();
            }
            assertThat(frame.streamId()).isNotNegative();
        } catch (ProtocolException e) {
            assertThat(e.closeCode()).isIn(CloseCode.PROTOCOL_ERROR, CloseCode.FRAME_TOO_LARGE);
        } finally {
            in.release();
        }
        assertThat(in.refCnt()).isZero();
    }

    // ------------------------------------------------------------ generators

    @Provide
    Arbitrary<Frame> controlFrames() {
        return Arbitraries.oneOf(
                hellos(),
                accepts(),
                rejects(),
                requests(),
                responses(),
                trailers(),
                windowUpdates(),
                resets(),
                Arbitraries.longs().map(Frame.Ping::new),
                Arbitraries.longs().map(Frame.Pong::new),
                text().map(Frame.Drain::new),
                Combinators.combine(routes(), Arbitraries.of(true, false)).as(Frame.RouteHealth::new));
    }

    private static Arbitrary<Frame> hellos() {
        Arbitrary<int[]> versions = Combinators.combine(u16(), u16())
                .as((a, b) -> new int[] {Math.min(a, b), Math.max(a, b)});
        return Combinators.combine(
                        versions,
                        text(),
                        text(),
                        text(),
                        routes().list().ofMaxSize(8),
                        Arbitraries.maps(text(), text()).ofMaxSize(8))
                .as((v, agentId, token, proof, routes, attributes) ->
                        new Frame.Hello(v[0], v[1], agentId, token, proof, routes, attributes));
    }

    /** Both layouts: version 1 without the replica fields, version 2 and later with them. */
    private static Arbitrary<Frame> accepts() {
        Arbitrary<Frame.Accept> base = Combinators.combine(u16(), text(), positive(), positive(), positive(), positive())
                .as(Frame.Accept::new);
        return Combinators.combine(base, text(), positive())
                .as((accept, replicaId, replicaCount) -> accept.carriesReplica()
                        ? new Frame.Accept(accept.version(), accept.sessionId(), accept.maxFramePayload(),
                                accept.initialStreamWindow(), accept.maxConcurrentStreams(),
                                accept.heartbeatIntervalMillis(), replicaId, replicaCount)
                        : accept);
    }

    private static Arbitrary<Frame> rejects() {
        return Combinators.combine(Arbitraries.of(RejectReason.class), text()).as(Frame.Reject::new);
    }

    private static Arbitrary<Frame> requests() {
        Arbitrary<String> methods = Arbitraries.oneOf(
                Arbitraries.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"), nonEmptyText());
        return Combinators.combine(
                        positive(),
                        methods,
                        nonEmptyText(),
                        text(),
                        text(),
                        headers(),
                        Arbitraries.of(true, false))
                .as(Frame.Request::new);
    }

    private static Arbitrary<Frame> responses() {
        return Combinators.combine(
                        positive(), Arbitraries.integers().between(100, 999), headers(), Arbitraries.of(true, false))
                .as(Frame.Response::new);
    }

    private static Arbitrary<Frame> trailers() {
        return Combinators.combine(positive(), headers()).as(Frame.Trailers::new);
    }

    private static Arbitrary<Frame> windowUpdates() {
        return Combinators.combine(positive(), positive()).as(Frame.WindowUpdate::new);
    }

    private static Arbitrary<Frame> resets() {
        return Combinators.combine(positive(), Arbitraries.of(ResetCode.class), text()).as(Frame.Reset::new);
    }

    /** Header lists drawn partly from a small pool of names, so duplicates and case variants are common. */
    private static Arbitrary<List<Header>> headers() {
        Arbitrary<String> names = Arbitraries.oneOf(
                Arbitraries.of("Set-Cookie", "set-cookie", "SET-COOKIE", "Content-Type", "x-forwarded-for", "Vary"),
                nonEmptyText());
        return Combinators.combine(names, text()).as(Header::new).list().ofMaxSize(12);
    }

    private static Arbitrary<RouteClaim> routes() {
        Arbitrary<String> label = Arbitraries.strings()
                .withCharRange('a', 'z')
                .withCharRange('A', 'Z')
                .withCharRange('0', '9')
                .withChars('-', '_')
                .ofMinLength(1)
                .ofMaxLength(12);
        Arbitrary<String> name = label.list().ofMinSize(1).ofMaxSize(4).map(labels -> String.join(".", labels));
        Arbitrary<String> host = Arbitraries.oneOf(
                name,
                name.map(n -> "*." + n),
                Arbitraries.of("[::1]", "[2001:db8::1]", "[::ffff:192.0.2.1]"));
        Arbitrary<String> prefix = Arbitraries.oneOf(Arbitraries.just("/"), text().map(t -> "/" + t));
        return Combinators.combine(host, prefix).as(RouteClaim::new);
    }

    /**
     * Strings mixing ASCII (control characters included), other BMP characters and supplementary
     * ones such as emoji. No lone surrogates: those have no UTF-8 form, so no peer can send them.
     */
    private static Arbitrary<String> text() {
        Arbitrary<String> ascii = Arbitraries.strings().ascii().ofMaxLength(16);
        Arbitrary<String> bmp = Arbitraries.strings()
                .withCharRange('\u0080', '\uD7FF')
                .withCharRange('\uE000', '\uFFFF')
                .ofMaxLength(8);
        Arbitrary<String> supplementary = Arbitraries.integers()
                .between(0x10000, 0x10FFFF)
                .map(Character::toString)
                .list()
                .ofMaxSize(4)
                .map(codePoints -> String.join("", codePoints));
        return Arbitraries.oneOf(ascii, bmp, supplementary).list().ofMaxSize(4).map(parts -> String.join("", parts));
    }

    private static Arbitrary<String> nonEmptyText() {
        return text().filter(s -> !s.isEmpty());
    }

    private static Arbitrary<Integer> positive() {
        return Arbitraries.integers().between(1, Integer.MAX_VALUE);
    }

    private static Arbitrary<Integer> u16() {
        return Arbitraries.integers().between(0, 0xFFFF);
    }
}
