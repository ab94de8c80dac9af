package io.edgetunnel.bench;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ProtocolLimits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Encode and decode cost of the three frames that dominate a tunnel's traffic: a Request with ten
 * headers (every proxied request), a 16 KiB Data chunk (every body) and a Ping (every idle tunnel).
 * Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is the heap allocated per frame. Buffers
 * come from Netty's pooled allocator, as on the services' event loops, so pooled (direct) memory
 * does not show up as heap allocation; what does is the frame records, strings and header lists.
 *
 * <p>The Data benchmarks also check, once per trial, that the codec does not copy the body: the
 * encoded frame must be a composite whose body component is the caller's buffer, and the decoded
 * content must share memory with the input.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameCodecBenchmark {

    private static final int DATA_BYTES = 16 * 1024;

    private final FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    private Frame.Request request;
    private ByteBuf encodedRequest;
    private ByteBuf body;
    private ByteBuf encodedData;
    private Frame.Ping ping;
    private ByteBuf encodedPing;

    @Setup(Level.Trial)
    public void setUp() {
        List<Header> headers = new ArrayList<>();
        headers.add(new Header("host", "app.example.com"));
        headers.add(new Header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0"));
        headers.add(new Header("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
        headers.add(new Header("accept-encoding", "gzip, deflate, br"));
        headers.add(new Header("accept-language", "en-GB,en;q=0.9"));
        headers.add(new Header("cookie", "session=0123456789abcdef0123456789abcdef; theme=dark"));
        headers.add(new Header("x-forwarded-for", "203.0.113.7"));
        headers.add(new Header("x-forwarded-proto", "https"));
        headers.add(new Header("x-forwarded-host", "app.example.com"));
        headers.add(new Header("x-request-id", "6f1c2a9e-0d4b-4c1e-9b7a-3f5e8d2c1a0b"));
        request = new Frame.Request(7, "GET", "/api/v1/items?page=2&size=50", "app.example.com", "/", headers, true);
        encodedRequest = codec.encode(request, alloc);

        body = alloc.directBuffer(DATA_BYTES, DATA_BYTES);
        byte[] random = new byte[DATA_BYTES];
        ThreadLocalRandom.current().nextBytes(random);
        body.writeBytes(random);
        ByteBuf frame = codec.encode(new Frame.Data(7, body.retain(), false), alloc);
        checkEncodeIsZeroCopy(frame, body);
        // a contiguous input, as a WebSocket frame's payload arrives
        encodedData = alloc.directBuffer(frame.readableBytes());
        encodedData.writeBytes(frame);
        frame.release();
        Frame.Data decoded = (Frame.Data) codec.decode(encodedData);
        checkDecodeIsZeroCopy(decoded, encodedData);
        decoded.content().release();

        ping = new Frame.Ping(0x0123456789abcdefL);
        encodedPing = codec.encode(ping, alloc);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        encodedRequest.release();
        encodedData.release();
        encodedPing.release();
        body.release();
    }

    @Benchmark
    public void encodeRequest10Headers(Blackhole bh) {
        ByteBuf out = codec.encode(request, alloc);
        bh.consume(out.readableBytes());
        out.release();
    }

    @Benchmark
    public Frame decodeRequest10Headers() {
        return codec.decode(encodedRequest);
    }

    /** The body is retained, not copied: encode takes over one reference, releasing the frame drops it. */
    @Benchmark
    public void encodeData16k(Blackhole bh) {
        ByteBuf out = codec.encode(new Frame.Data(7, body.retain(), false), alloc);
        bh.consume(out.readableBytes());
        out.release();
    }

    @Benchmark
    public void decodeData16k(Blackhole bh) {
        Frame.Data data = (Frame.Data) codec.decode(encodedData);
        bh.consume(data.content().readableBytes());
        data.content().release();
    }

    @Benchmark
    public void encodePing(Blackhole bh) {
        ByteBuf out = codec.encode(ping, alloc);
        bh.consume(out.readableBytes());
        out.release();
    }

    @Benchmark
    public Frame decodePing() {
        return codec.decode(encodedPing);
    }

    private static void checkEncodeIsZeroCopy(ByteBuf frame, ByteBuf content) {
        if (!(frame instanceof CompositeByteBuf composite) || composite.numComponents() != 2) {
            throw new IllegalStateException("encoded Data frame: " + frame + " (expected: header + body composite)");
        }
        ByteBuf bodyPart = composite.internalComponent(1);
        if (!bodyPart.hasMemoryAddress() || bodyPart.memoryAddress() + bodyPart.readerIndex()
                != content.memoryAddress() + content.readerIndex()) {
            throw new IllegalStateException("encoded Data frame copied the body (expected: the same memory)");
        }
    }

    private static void checkDecodeIsZeroCopy(Frame.Data data, ByteBuf input) {
        ByteBuf content = data.content();
        if (!content.hasMemoryAddress() || content.memoryAddress() + content.readerIndex()
                != input.memoryAddress() + input.readerIndex() + FrameCodec.HEADER_BYTES) {
            throw new IllegalStateException("decoded Data frame copied the body (expected: a slice of the input)");
        }
    }
}
