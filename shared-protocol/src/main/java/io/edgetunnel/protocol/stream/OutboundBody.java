package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;

/**
 * The sending half of one body direction of a stream: subscribes to a body publisher one buffer at a
 * time and sends it as DATA frames no larger than {@code maxChunk}, never beyond the credit the peer
 * granted. With no credit it stops requesting, so backpressure reaches the body's source (the
 * public client's socket or the local app's response) instead of growing a queue. The same happens
 * while the tunnel's queue is not {@linkplain FrameSink#writable() writable} (a link slower than
 * its streams): the body parks until the queue drained.
 *
 * <p>The last DATA frame carries END_STREAM (an empty one when the body's end is only learnt later),
 * then {@link Listener#onComplete}; a failing source ends with {@link Listener#onError} and no
 * END_STREAM (the owner resets the stream). When the trailer supplier has fields once the source
 * completed, the direction ends with a TRAILERS frame instead (HTTP trailers, gRPC's status).
 *
 * <p>In {@linkplain #records record mode} each buffer is one DATA frame, never split: it waits until
 * the credit covers all of it (WebSocket records, spec section 19.2).
 */
public final class OutboundBody implements CoreSubscriber<ByteBuf> {

    /** How the body ended. Called once, from whichever thread finished it. */
    public interface Listener {
        void onComplete();

        void onError(Throwable cause);
    }

    private final int streamId;
    private final int maxChunk;
    private final boolean wholeBuffers;
    private final FrameSink sink;
    private final Listener listener;
    private final Supplier<List<Header>> trailers;

    private final AtomicInteger credit;
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicReference<ByteBuf> incoming = new AtomicReference<>();
    private final AtomicBoolean parked = new AtomicBoolean();

    private volatile Subscription subscription;
    private volatile boolean sourceDone;
    private volatile Throwable sourceError;
    private volatile boolean cancelled;

    // touched only by the thread that owns the drain loop
    private ByteBuf pending;
    private ByteBuf held;
    private boolean awaitingItem;
    private boolean finished;
    /** A drain is queued on the event loop for the held chunk. */
    private boolean heldDeferred;

    public OutboundBody(int streamId, int initialCredit, int maxChunk, FrameSink sink, Listener listener) {
        this(streamId, initialCredit, maxChunk, false, sink, listener, List::of);
    }

    /**
     * @param trailers the trailer fields, asked once after the source completed normally; an empty
     *     list ends the body with END_STREAM on DATA as usual
     */
    public OutboundBody(int streamId, int initialCredit, int maxChunk, FrameSink sink, Listener listener,
            Supplier<List<Header>> trailers) {
        this(streamId, initialCredit, maxChunk, false, sink, listener, trailers);
    }

    private OutboundBody(int streamId, int initialCredit, int maxChunk, boolean wholeBuffers, FrameSink sink,
            Listener listener, Supplier<List<Header>> trailers) {
        if (maxChunk <= 0) {
            throw new IllegalArgumentException("maxChunk: " + maxChunk + " (expected: > 0)");
        }
        this.streamId = streamId;
        this.credit = new AtomicInteger(initialCredit);
        this.maxChunk = maxChunk;
        this.wholeBuffers = wholeBuffers;
        this.sink = sink;
        this.listener = listener;
        this.trailers = Objects.requireNonNull(trailers, "trailers");
    }

    /**
     * Record mode: every buffer the source emits becomes exactly one DATA frame, sent once the credit
     * covers it whole. A buffer larger than {@code maxRecord} fails the body.
     */
    public static OutboundBody records(
            int streamId, int initialCredit, int maxRecord, FrameSink sink, Listener listener) {
        return new OutboundBody(streamId, initialCredit, maxRecord, true, sink, listener, List::of);
    }

    /** The peer sent a window update. */
    public void addCredit(int increment) {
        int updated = credit.addAndGet(increment);
        if (updated < 0) {
            throw new ProtocolException(
                    CloseCode.FLOW_CONTROL_ERROR, "stream " + streamId + ": window update overflows the window");
        }
        drain();
    }

    /** Stops sending: the stream was reset or the tunnel is gone. Releases what is held. */
    public void cancel() {
        cancelled = true;
        drain();
    }

    @Override
    public void onSubscribe(Subscription s) {
        subscription = s;
        if (cancelled) {
            s.cancel(); // cancelled before its source came: the source must not wait for demand for ever
        }
        drain();
    }

    @Override
    public void onNext(ByteBuf buf) {
        ByteBuf previous = incoming.getAndSet(buf);
        if (previous != null) {
            // a source that ignores request(1); drop rather than queue without bound
            previous.release();
        }
        drain();
    }

    @Override
    public void onError(Throwable t) {
        sourceError = t;
        sourceDone = true;
        drain();
    }

    @Override
    public void onComplete() {
        sourceDone = true;
        drain();
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            drainOnce();
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void drainOnce() {
        if (finished) {
            releaseIncoming();
            return;
        }
        if (cancelled) {
            finished = true;
            Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            releaseHeld();
            releasePending();
            releaseIncoming();
            return;
        }
        boolean done = sourceDone;
        if (pending == null) {
            ByteBuf next = incoming.getAndSet(null);
            if (next != null) {
                pending = next;
                awaitingItem = false;
            }
        }
        if (held != null) {
            if (done && pending == null && sourceError == null) {
                // the body ended right behind its last chunk: one frame carries both
                finish(held);
                held = null;
                return;
            }
            sendHeld();
        }
        while (pending != null) {
            if (!pending.isReadable()) {
                releasePending();
                break;
            }
            int available = credit.get();
            if (available <= 0) {
                return;
            }
            if (!sink.writable()) {
                park();
                return;
            }
            int bytes = Math.min(Math.min(available, maxChunk), pending.readableBytes());
            if (wholeBuffers) {
                bytes = pending.readableBytes();
                if (bytes > maxChunk) {
                    oversized(bytes);
                    return;
                }
                if (bytes > available) {
                    return;
                }
            }
            ByteBuf chunk = pending.readRetainedSlice(bytes);
            credit.addAndGet(-bytes);
            if (!pending.isReadable()) {
                releasePending();
                // keep the buffer's last chunk back until we know whether the body ends behind it
                held = chunk;
            } else {
                sink.send(new Frame.Data(streamId, chunk, false));
            }
        }
        if (incoming.get() != null) {
            // arrived while we were sending; the loop's missed counter brings us back
            wip.incrementAndGet();
            return;
        }
        if (done) {
            ByteBuf last = held;
            held = null;
            if (sourceError != null) {
                if (last != null) {
                    last.release();
                }
                finished = true;
                listener.onError(sourceError);
            } else {
                finish(last);
            }
            return;
        }
        Subscription s = subscription;
        if (s != null && !awaitingItem && credit.get() > 0) {
            if (sink.writable()) {
                awaitingItem = true;
                s.request(1);
            } else {
                park();
            }
        }
        // Reactor Netty often completes a small body in the same call, but after this item: on an event
        // loop the held chunk goes once the current task is over, with END_STREAM if the end came by
        // then (one frame, not two, per small body: issue 18); never later, so streams (server-sent
        // events) are not delayed. Off a loop it goes now.
        if (held != null && incoming.get() == null && !sourceDone && !deferHeld()) {
            sendHeld();
        }
    }

    /** Queues a drain behind the current event loop task, which sends or finishes with the held chunk. */
    private boolean deferHeld() {
        if (heldDeferred) {
            return true;
        }
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        if (loop == null || !loop.inEventLoop()) {
            return false;
        }
        try {
            loop.execute(this::drain);
        } catch (RejectedExecutionException e) {
            return false; // the loop is shutting down
        }
        heldDeferred = true;
        return true;
    }

    /** Waits for the tunnel's queue to drain; registered once however often the loop gets here. */
    private void park() {
        if (parked.compareAndSet(false, true)) {
            sink.whenWritable(() -> {
                parked.set(false);
                drain();
            });
        }
    }

    private void oversized(int bytes) {
        finished = true;
        Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        releaseHeld();
        releasePending();
        releaseIncoming();
        listener.onError(new IllegalStateException(
                "stream " + streamId + ": record of " + bytes + " bytes (expected: <= " + maxChunk + ")"));
    }

    private void finish(ByteBuf last) {
        finished = true;
        heldDeferred = false;
        List<Header> fields = trailers.get();
        if (fields == null || fields.isEmpty()) {
            sink.send(new Frame.Data(streamId, last != null ? last : Unpooled.EMPTY_BUFFER, true));
        } else {
            if (last != null) {
                sink.send(new Frame.Data(streamId, last, false));
            }
            sink.send(new Frame.Trailers(streamId, fields));
        }
        listener.onComplete();
    }

    private void sendHeld() {
        ByteBuf chunk = held;
        held = null;
        heldDeferred = false;
        sink.send(new Frame.Data(streamId, chunk, false));
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
        }
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    private void releaseIncoming() {
        ByteBuf stray = incoming.getAndSet(null);
        if (stray != null) {
            stray.release();
        }
    }
}
