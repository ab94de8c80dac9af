package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * A tunnel's outbound frame queue: any thread may {@link #send}, one WebSocket writer consumes
 * {@link #frames()}. Frames are encoded on send, so the queue holds wire bytes, counted in
 * {@link #queuedBytes()}.
 *
 * <p>Stream data is bounded by the peer's windows, and also by the link: above a high-water mark (a
 * quarter of {@code maxQueuedBytes}) the queue reports itself not {@linkplain #writable() writable},
 * bodies stop pulling from their sources, and they resume once it drained below half that mark. So
 * a slow but reading peer only slows its streams down (many windows' worth of data would otherwise
 * pile up here). Should a peer stop reading altogether, control frames and the bodies' last chunks
 * keep coming; once the queue passes {@code maxQueuedBytes} the owner is told to cut the tunnel,
 * instead of memory growing.
 */
public final class OutboundFrames implements FrameSink {

    private final FrameCodec codec;
    private final ByteBufAllocator alloc;
    private final long maxQueuedBytes;
    private final Consumer<ProtocolException> onOverflow;
    private final long highWater;
    private final long lowWater;
    private final AtomicLong queued = new AtomicLong();
    private final Queue<Runnable> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wakeWip = new AtomicInteger();
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
        this.highWater = Math.max(1, maxQueuedBytes / 4);
        this.lowWater = Math.max(1, highWater / 2);
        // Queued frames travel wrapped, so only our hook releases what the queue drops: the writer's
        // own discard hook (Reactor Netty releases any ReferenceCounted) never sees them twice.
        this.frames = sink.asFlux()
                .map(frame -> {
                    if (queued.addAndGet(-frame.bytes()) < lowWater && !waiters.isEmpty()) {
                        wakeWaiters();
                    }
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

    @Override
    public boolean writable() {
        return queued.get() < highWater || closed;
    }

    @Override
    public void whenWritable(Runnable task) {
        if (closed) {
            task.run();
            return;
        }
        waiters.add(task);
        // the writer may have drained the queue between the caller's writable() and the add above
        if (queued.get() < lowWater || closed) {
            wakeWaiters();
        }
    }

    /**
     * Runs the waiting tasks while the queue stays writable, one caller at a time (a task that sends
     * may re-register, or drain the queue below the mark again). Whoever runs it runs the tasks: the
     * writer's thread when the queue drained, or a sender that registered just after it did.
     */
    private void wakeWaiters() {
        if (wakeWip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            Runnable task;
            while (writable() && (task = waiters.poll()) != null) {
                task.run();
            }
            missed = wakeWip.addAndGet(-missed);
        } while (missed != 0);
    }

    /** Sends nothing more; what is queued still goes out, then the flux completes. */
    public void close() {
        closed = true;
        sink.tryEmitComplete();
        // parked bodies carry on: their sends are dropped now and the owner resets their streams
        wakeWaiters();
    }

    public boolean isClosed() {
        return closed;
    }

    public long queuedBytes() {
        return queued.get();
    }

    private record Queued(ByteBuf buf, int bytes) {}
}
