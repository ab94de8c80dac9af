package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * A tunnel's outbound frame queue: any thread may {@link #send}, one WebSocket writer consumes
 * {@link #frames()}. Frames are encoded on send, so the queue holds wire bytes, counted in
 * {@link #queuedBytes()}. Stream data is bounded by the peer's windows; should a peer stop reading
 * altogether, the queue passes {@code maxQueuedBytes} and the owner is told to cut the tunnel,
 * instead of memory growing.
 */
public final class OutboundFrames implements FrameSink {

    private final FrameCodec codec;
    private final ByteBufAllocator alloc;
    private final long maxQueuedBytes;
    private final Consumer<ProtocolException> onOverflow;
    private final AtomicLong queued = new AtomicLong();
    // unicast over a multi-producer queue: any thread may emit, frames sent before the WebSocket
    // writer subscribes wait in the queue instead of being lost
    private final Sinks.Many<Queued> sink =
            Sinks.unsafe().many().unicast().onBackpressureBuffer(Queues.<Queued>unboundedMultiproducer().get());
    private final Flux<ByteBuf> frames;

    private volatile boolean closed;

    /**
     * @param onOverflow called once when the queue passes {@code maxQueuedBytes}; the owner closes
     *     the tunnel with {@link CloseCode#SLOW_CONSUMER}
     */
    public OutboundFrames(
            FrameCodec codec, ByteBufAllocator alloc, long maxQueuedBytes, Consumer<ProtocolException> onOverflow) {
        this.codec = codec;
        this.alloc = alloc;
        this.maxQueuedBytes = maxQueuedBytes;
        this.onOverflow = onOverflow;
        // Queued frames travel wrapped, so only our hook releases what the queue drops: the writer's
        // own discard hook (Reactor Netty releases any ReferenceCounted) never sees them twice.
        this.frames = sink.asFlux()
                .map(frame -> {
                    queued.addAndGet(-frame.bytes());
                    return frame.buf();
                })
                .doOnDiscard(Queued.class, frame -> {
                    queued.addAndGet(-frame.bytes());
                    frame.buf().release();
                });
    }

    /** The encoded frames, for exactly one subscriber (the WebSocket outbound). */
    public Flux<ByteBuf> frames() {
        return frames;
    }

    @Override
    public void send(Frame frame) {
        if (closed) {
            if (frame instanceof Frame.Data data) {
                data.content().release();
            }
            return;
        }
        ByteBuf encoded = codec.encode(frame, alloc);
        int bytes = encoded.readableBytes();
        long total = queued.addAndGet(bytes);
        if (sink.tryEmitNext(new Queued(encoded, bytes)).isFailure()) {
            // the writer is gone (tunnel closed or cancelled)
            queued.addAndGet(-bytes);
            encoded.release();
            return;
        }
        if (total > maxQueuedBytes && !closed) {
            closed = true;
            onOverflow.accept(new ProtocolException(
                    CloseCode.SLOW_CONSUMER,
                    "outbound queue at " + total + " bytes (expected: <= " + maxQueuedBytes + "): peer not reading"));
        }
    }

    /** Sends nothing more; what is queued still goes out, then the flux completes. */
    public void close() {
        closed = true;
        sink.tryEmitComplete();
    }

    public boolean isClosed() {
        return closed;
    }

    public long queuedBytes() {
        return queued.get();
    }

    private record Queued(ByteBuf buf, int bytes) {}
}
