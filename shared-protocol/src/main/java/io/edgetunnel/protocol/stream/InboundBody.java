package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Operators;

/**
 * The receiving half of one body direction of a stream: DATA frames from the tunnel go in, a
 * single-subscriber {@code Publisher<ByteBuf>} comes out, and credit goes back to the peer only as
 * the subscriber takes chunks. So the bytes queued here never exceed the window the peer was
 * granted, whatever the peer or the consumer do.
 *
 * <p>The subscriber owns every emitted buffer and must release it. Credit for a chunk goes back
 * when the subscriber <em>releases</em> it, which for a socket writer is when the bytes left the
 * process: so everything a stream holds, here and in the writer's outbound buffer, stays within the
 * window. Queued buffers are released on cancel, on {@link #fail} and on {@link #discard}, so
 * nothing leaks when nobody ever subscribes.
 *
 * <p>With a {@link WindowGrowth}, the window grows while it is what limits the stream: when credit
 * goes back, nothing is queued here (the consumer keeps up) and, at the rate the last grant's bytes
 * were drained, a whole window lasts less than two round trips of the tunnel, the grant also carries
 * extra credit, doubling the window, up to the growth's per-stream maximum and within its
 * tunnel-wide budget (spec section 8.1). A slow consumer never grows its window (its queue is not
 * empty), nor does a slow sender (its window lasts many round trips). The growth goes back to the
 * budget once the body ended and every byte it received was released.
 */
public final class InboundBody implements Publisher<ByteBuf>, Subscription {

    private final int streamId;
    private final int grantThreshold;
    private final IntConsumer creditGrant;
    private final Runnable onCancel;
    private final LongAdder bufferedBytes;

    private final Queue<ByteBuf> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicLong requested = new AtomicLong();
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    /** Bytes the peer may still send before it must wait for a window update. */
    private final AtomicInteger peerCredit;

    private volatile Subscriber<? super ByteBuf> actual;
    private volatile boolean done;
    private volatile Throwable error;
    private volatile boolean discarded;
    private boolean terminated;
    private final AtomicInteger consumedSinceGrant = new AtomicInteger();
    private final WindowGrowth growth;
    /** The stream's current window: the initial one plus {@link #grown}. */
    private final AtomicInteger window;
    private final AtomicInteger grown = new AtomicInteger();
    private final AtomicBoolean growthReturned = new AtomicBoolean();
    private volatile long lastGrantNanos = System.nanoTime();
    /** Bytes received and not yet released by whoever holds them (queue, consumer, socket writer). */
    private final AtomicLong unreleased = new AtomicLong();
    private volatile boolean ended;

    /**
     * @param window the initial stream window granted to the peer
     * @param creditGrant sends a window update of the given increment to the peer
     * @param onCancel tells the peer the stream is cancelled (the subscriber went away)
     * @param bufferedBytes counter of bytes queued here, shared by every stream for the gauge
     */
    public InboundBody(
            int streamId, int window, IntConsumer creditGrant, Runnable onCancel, LongAdder bufferedBytes) {
        this(streamId, window, WindowGrowth.NONE, creditGrant, onCancel, bufferedBytes);
    }

    /**
     * @param growth how far the window may grow beyond {@code window}, shared by the tunnel's streams
     */
    public InboundBody(int streamId, int window, WindowGrowth growth, IntConsumer creditGrant, Runnable onCancel,
            LongAdder bufferedBytes) {
        if (window <= 0) {
            throw new IllegalArgumentException("window: " + window + " (expected: > 0)");
        }
        this.streamId = streamId;
        this.growth = growth;
        this.window = new AtomicInteger(window);
        this.peerCredit = new AtomicInteger(window);
        this.grantThreshold = Math.max(1, window / 4);
        this.creditGrant = creditGrant;
        this.onCancel = onCancel;
        this.bufferedBytes = bufferedBytes;
    }

    /**
     * A DATA frame arrived. Takes over {@code content}.
     *
     * @throws ProtocolException with {@link CloseCode#FLOW_CONTROL_ERROR} when the peer sent past its
     *     window; the content is released
     */
    public void onData(ByteBuf content, boolean endStream) {
        int bytes = content.readableBytes();
        if (peerCredit.addAndGet(-bytes) < 0) {
            content.release();
            throw new ProtocolException(
                    CloseCode.FLOW_CONTROL_ERROR,
                    "stream " + streamId + ": DATA of " + bytes + " bytes beyond the granted window");
        }
        if (done || cancelled.get() || discarded) {
            content.release();
        } else if (bytes > 0) {
            bufferedBytes.add(bytes);
            unreleased.addAndGet(bytes);
            queue.offer(new ReleaseTrackingBuf(content, () -> released(bytes)));
        } else {
            content.release();
        }
        if (endStream) {
            done = true;
        }
        drain();
    }

    /** The body ends without more data (END_STREAM on a frame that carries none). */
    public void complete() {
        done = true;
        drain();
    }

    /** The body ends abnormally: queued data is dropped and the subscriber gets {@code cause}. */
    public void fail(Throwable cause) {
        if (done) {
            return;
        }
        error = cause;
        done = true;
        drain();
    }

    /** Drops everything queued and anything that still arrives, without telling the peer. */
    public void discard() {
        discarded = true;
        drain();
    }

    public boolean isDone() {
        return done;
    }

    /**
     * Whether nothing more will be emitted but the completion: the body ended without error and every
     * chunk was taken (data offered before the end is queued before {@code done} is set).
     */
    public boolean isFinished() {
        return done && error == null && queue.isEmpty();
    }

    @Override
    public void subscribe(Subscriber<? super ByteBuf> subscriber) {
        if (!subscribed.compareAndSet(false, true)) {
            Operators.error(subscriber, new IllegalStateException("stream " + streamId + ": body already subscribed"));
            return;
        }
        subscriber.onSubscribe(this);
        actual = subscriber;
        drain();
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            requested.getAndUpdate(current -> Operators.addCap(current, n));
            drain();
        }
    }

    @Override
    public void cancel() {
        if (cancelled.compareAndSet(false, true)) {
            if (!done) {
                onCancel.run();
            }
            drain();
        }
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            if (cancelled.get() || discarded || (terminated && !queue.isEmpty())) {
                clearQueue();
            } else if (!terminated) {
                emit();
            }
            if (terminated || cancelled.get() || discarded || error != null) {
                // the growth stays taken until the last byte the stream held is released
                ended = true;
                if (unreleased.get() == 0) {
                    returnGrowth();
                }
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void emit() {
        Subscriber<? super ByteBuf> subscriber = actual;
        if (subscriber == null) {
            if (error != null) {
                clearQueue();
            }
            return;
        }
        long demand = requested.get();
        long emitted = 0;
        while (true) {
            boolean finished = done;
            Throwable failure = error;
            if (failure != null) {
                terminated = true;
                clearQueue();
                subscriber.onError(failure);
                return;
            }
            if (cancelled.get() || discarded) {
                clearQueue();
                return;
            }
            if (emitted == demand) {
                if (finished && queue.isEmpty()) {
                    terminated = true;
                    subscriber.onComplete();
                }
                break;
            }
            ByteBuf next = queue.poll();
            if (next == null) {
                if (finished) {
                    terminated = true;
                    subscriber.onComplete();
                }
                break;
            }
            subscriber.onNext(next);
            emitted++;
        }
        if (emitted != 0 && demand != Long.MAX_VALUE) {
            requested.addAndGet(-emitted);
        }
    }

    /** A chunk was released by whoever held it last: its bytes are gone from this process. */
    private void released(int bytes) {
        bufferedBytes.add(-bytes);
        if (unreleased.addAndGet(-bytes) == 0 && ended) {
            returnGrowth();
        }
        if (done || cancelled.get() || discarded) {
            return;
        }
        int pending = consumedSinceGrant.addAndGet(bytes);
        if (pending >= grantThreshold) {
            int increment = consumedSinceGrant.getAndSet(0);
            if (increment > 0) {
                long now = System.nanoTime();
                increment += grow(increment, now - lastGrantNanos);
                lastGrantNanos = now;
                // raise our own bookkeeping first, so data the peer sends on receipt is never misjudged
                peerCredit.addAndGet(increment);
                creditGrant.accept(increment);
            }
        }
    }

    /**
     * Extra credit to grant with {@code drained} bytes that took {@code drainNanos} since the last
     * grant: the window doubles while it lasts less than two round trips at that rate.
     */
    private int grow(int drained, long drainNanos) {
        int max = growth.maxStreamWindow();
        int current = window.get();
        long rtt = growth.rttNanos();
        if (current >= max || rtt <= 0 || done || growthReturned.get() || !queue.isEmpty()) {
            return 0;
        }
        // time for a whole window at this rate = current * drainNanos / drained; doubles: no overflow
        if ((double) current * drainNanos >= 2.0 * rtt * drained) {
            return 0;
        }
        int extra = growth.reserve(Math.min(current, max - current));
        if (extra == 0) {
            return 0;
        }
        window.addAndGet(extra);
        grown.addAndGet(extra);
        if (growthReturned.get()) {
            // the body ended meanwhile: give it straight back
            growth.release(grown.getAndSet(0));
        }
        return extra;
    }

    /** The stream's window now: the initial window plus what it grew by. */
    public int window() {
        return window.get();
    }

    private void returnGrowth() {
        if (growthReturned.compareAndSet(false, true)) {
            growth.release(grown.getAndSet(0));
        }
    }

    private void clearQueue() {
        ByteBuf buf;
        while ((buf = queue.poll()) != null) {
            buf.release();
        }
    }
}
