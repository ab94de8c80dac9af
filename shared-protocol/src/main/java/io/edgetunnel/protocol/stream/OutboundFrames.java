package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
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
 * pile up here). A peer that stops reading altogether is cut: the owner is told to close the tunnel
 * once the queue passes {@code maxQueuedBytes}, or once bodies have waited for it with nothing taken by
 * the writer for {@link #STALL_LIMIT} (paced bodies no longer fill it).
 */
public final class OutboundFrames implements FrameSink {

    private static final Logger log = LoggerFactory.getLogger(OutboundFrames.class);

    /**
     * How long a queue above its high-water mark may go without the writer taking a frame: the
     * peer's socket accepted nothing for that long, so it is not reading (a slow link still moves).
     */
    public static final Duration STALL_LIMIT = Duration.ofSeconds(5);

    private final FrameCodec codec;
    private final ByteBufAllocator alloc;
    private final long maxQueuedBytes;
    private final Consumer<ProtocolException> onOverflow;
    private final long highWater;
    private final long lowWater;
    private final AtomicLong queued = new AtomicLong();
    private final Queue<Runnable> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wakeWip = new AtomicInteger();
    private final long stallNanos;
    private final AtomicBoolean stallWatch = new AtomicBoolean();
    /** Frames the writer has taken; one writer, so a plain increment published opaquely suffices. */
    private final AtomicLong taken = new AtomicLong();
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
        this(codec, alloc, maxQueuedBytes, STALL_LIMIT, onOverflow);
    }

    OutboundFrames(FrameCodec codec, ByteBufAllocator alloc, long maxQueuedBytes, Duration stallLimit,
            Consumer<ProtocolException> onOverflow) {
        this.stallNanos = stallLimit.toNanos();
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
                    // no clock read per frame: the stall check compares this count a whole limit apart
                    taken.setOpaque(taken.getPlain() + 1);
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
        if (total > maxQueuedBytes) {
            overflow("outbound queue at " + total + " bytes (expected: <= " + maxQueuedBytes + "): peer not reading");
        }
    }

    private void overflow(String why) {
        if (!closed) {
            closed = true;
            waiters.clear();
            onOverflow.accept(new ProtocolException(CloseCode.SLOW_CONSUMER, why));
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
        } else {
            watchForStall();
        }
    }

    /** While bodies wait, checks that the writer still takes frames; one check pending at a time. */
    private void watchForStall() {
        if (stallWatch.compareAndSet(false, true)) {
            scheduleStallCheck(taken.getOpaque(), System.nanoTime());
        }
    }

    /** Looks a fifth of the limit later, so a stall is caught within the limit plus that. */
    private void scheduleStallCheck(long takenSeen, long progressSeenNanos) {
        Schedulers.parallel().schedule(
                () -> checkStall(takenSeen, progressSeenNanos), stallNanos / 5, TimeUnit.NANOSECONDS);
    }

    /**
     * Cuts the tunnel once the writer has taken nothing for the whole limit while bodies wait; else
     * looks again. The watch ends when nobody waits or the queue is below its low-water mark (the
     * waiters are woken then), not merely when it is writable: between the two marks parked bodies
     * stay parked, and a peer that stopped reading with the queue there would hold them for ever.
     */
    private void checkStall(long takenSeen, long progressSeenNanos) {
        if (closed || waiters.isEmpty() || queued.get() < lowWater) {
            stallWatch.set(false);
            return;
        }
        long now = System.nanoTime();
        long takenNow = taken.getOpaque();
        long lastProgress = takenNow != takenSeen ? now : progressSeenNanos;
        if (now - lastProgress >= stallNanos) {
            stallWatch.set(false);
            overflow("outbound queue at " + queued.get() + " bytes, nothing written for "
                    + TimeUnit.NANOSECONDS.toMillis(now - lastProgress) + " ms: peer not reading");
        } else {
            scheduleStallCheck(takenNow, lastProgress);
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
                try {
                    task.run();
                } catch (RuntimeException e) {
                    // one body's failure must neither stop the others nor the writer that woke them
                    log.warn("a stream resumed after the tunnel's queue drained failed: {}", e.toString(), e);
                }
            }
            missed = wakeWip.addAndGet(-missed);
        } while (missed != 0);
    }

    /**
     * Sends nothing more; what is queued still goes out, then the flux completes. Waiting bodies are
     * forgotten, not woken: the owner cancels their streams, as it does those waiting for credit.
     */
    public void close() {
        closed = true;
        waiters.clear();
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
