package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.stream.FrameSink;
import io.edgetunnel.protocol.stream.InboundBody;
import io.edgetunnel.protocol.stream.OutboundBody;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One stream of a {@link TunnelConnection}, the same class at both ends. It keeps the stream's
 * state (protocol section 7.2), owns both body halves (the peer's direction as an
 * {@link InboundBody}, ours as an {@link OutboundBody}), checks every frame the peer sends on it, and
 * ends exactly once, by {@link #reset}, {@link #complete}, the peer's RESET or the connection
 * closing; the attached {@link StreamHandler} learns how in {@link StreamHandler#onEnd}.
 *
 * <p>Frames from the peer arrive on the connection's event loop; the local direction may be driven
 * from any thread (the public client's, the local app's).
 */
public final class TunnelStream {

    /** The states of protocol section 7.2, named as HTTP/2 names them. */
    public enum State {
        /** Created, first frame not sent or received yet. */
        IDLE,
        OPEN,
        /** Our direction ended; the peer's still open. */
        HALF_CLOSED_LOCAL,
        /** The peer's direction ended; ours still open. */
        HALF_CLOSED_REMOTE,
        /** Ended normally. */
        CLOSED,
        /** Ended by a RESET either way, or by the connection closing. */
        RESET
    }

    private final TunnelConnection connection;
    private final int id;
    private final StreamSettings settings;
    private final InboundBody inbound;
    private final AtomicBoolean ended = new AtomicBoolean();
    private final AtomicInteger pendingCredit = new AtomicInteger();

    private volatile StreamHandler handler;
    private volatile OutboundBody outbound;
    private volatile boolean localStarted;
    private volatile boolean localEnded;
    private volatile boolean remoteStarted;
    private volatile boolean remoteEnded;
    private volatile boolean dataSent;
    private volatile boolean resetEnd;
    private volatile boolean counted;

    /**
     * @param remoteHasBody whether the peer's direction carries a body (the opener always prepares
     *     one: it learns from the RESPONSE only)
     */
    TunnelStream(TunnelConnection connection, int id, StreamSettings settings, boolean remoteHasBody) {
        this.connection = connection;
        this.id = id;
        this.settings = settings;
        this.inbound = remoteHasBody
                ? new InboundBody(
                        id,
                        settings.window(),
                        settings.growth(),
                        increment -> sendIfOpen(new Frame.WindowUpdate(id, increment)),
                        this::inboundCancelled,
                        settings.bufferedBytes())
                : null;
    }

    public int id() {
        return id;
    }

    public TunnelConnection connection() {
        return connection;
    }

    public StreamSettings settings() {
        return settings;
    }

    public State state() {
        if (ended.get()) {
            return resetEnd ? State.RESET : State.CLOSED;
        }
        if (!localStarted && !remoteStarted) {
            return State.IDLE;
        }
        if (localEnded && remoteEnded) {
            return State.CLOSED; // ended both ways, the handler not done yet
        }
        return localEnded ? State.HALF_CLOSED_LOCAL : remoteEnded ? State.HALF_CLOSED_REMOTE : State.OPEN;
    }

    public boolean isEnded() {
        return ended.get();
    }

    /** The peer's direction's body; null when its first frame carried END_STREAM (acceptor). */
    public InboundBody inbound() {
        return inbound;
    }

    /** Whether any DATA of ours went out (a request that did must not be retried elsewhere). */
    public boolean dataSent() {
        return dataSent;
    }

    public boolean remoteEnded() {
        return remoteEnded;
    }

    public boolean localEnded() {
        return localEnded;
    }

    /**
     * Acceptor: takes the stream, with {@code handler}; from now on its frames reach the handler.
     * Call from {@link TunnelConnection.Side#onRequest}, then start the work.
     */
    public void accept(StreamHandler handler) {
        connection.accepted(this, handler);
    }

    void count() {
        counted = true;
    }

    boolean counted() {
        return counted;
    }

    StreamHandler handler() {
        return handler;
    }

    void attach(StreamHandler handler) {
        this.handler = handler;
    }

    // ------------------------------------------------------------------ our direction

    /** Sends our direction's first frame (the agent's RESPONSE); dropped once the stream ended. */
    public void sendHeaders(Frame.Response response) {
        if (ended.get()) {
            return;
        }
        localStarted = true;
        if (response.endStream()) {
            localEnded = true;
        }
        connection.send(response);
    }

    void started(boolean localEnd, boolean remoteStart, boolean remoteEnd) {
        localStarted = true;
        localEnded = localEnd;
        remoteStarted = remoteStart;
        remoteEnded = remoteEnd;
    }

    /**
     * Our direction's body, sent within the peer's window; subscribe it to the source. Its end (or
     * the trailers {@code trailers} supplies then) ends our direction.
     */
    public OutboundBody newBody(OutboundBody.Listener listener, Supplier<List<Header>> trailers) {
        return attach(new OutboundBody(id, settings.window(), settings.maxChunk(), dataSink, ending(listener), trailers));
    }

    /** Our direction as WebSocket records, one DATA frame each (spec section 19.2). */
    public OutboundBody newRecordBody(OutboundBody.Listener listener) {
        return attach(OutboundBody.records(id, settings.window(), settings.maxChunk(), dataSink, ending(listener)));
    }

    private OutboundBody attach(OutboundBody body) {
        outbound = body;
        if (ended.get()) {
            // ended before this body existed: the end's releaseBodies found nothing, so we cancel it
            body.cancel();
            return body;
        }
        int credit = pendingCredit.getAndSet(0);
        if (credit > 0) {
            body.addCredit(credit);
        }
        return body;
    }

    private OutboundBody.Listener ending(OutboundBody.Listener listener) {
        return new OutboundBody.Listener() {
            @Override
            public void onComplete() {
                localEnded = true;
                listener.onComplete();
            }

            @Override
            public void onError(Throwable cause) {
                listener.onError(cause);
            }
        };
    }

    /** Where this stream's frames go: the connection's queue, which also paces bodies on a slow link. */
    public FrameSink sink() {
        return dataSink;
    }

    private final FrameSink dataSink = new FrameSink() {
        @Override
        public void send(Frame frame) {
            if (frame instanceof Frame.Data) {
                dataSent = true;
            }
            connection.send(frame);
        }

        @Override
        public boolean writable() {
            return connection.writable();
        }

        @Override
        public void whenWritable(Runnable task) {
            connection.whenWritable(task);
        }
    };

    // ------------------------------------------------------------------ ending

    /**
     * Ends the stream with a RESET of {@code code}, whatever its state; {@code cause} reaches the
     * handler's {@link StreamHandler#onEnd}. False if the stream had already ended.
     */
    public boolean reset(ResetCode code, String message, Throwable cause) {
        if (!end(true)) {
            return false;
        }
        connection.send(new Frame.Reset(id, code, message));
        notifyEnd(new StreamEnd.LocalReset(code, message, cause));
        return true;
    }

    public boolean reset(ResetCode code, String message) {
        return reset(code, message, null);
    }

    /** Ends the stream without telling the peer: both directions are done, or the peer is. */
    public boolean complete() {
        if (!end(false)) {
            return false;
        }
        notifyEnd(StreamEnd.COMPLETED);
        return true;
    }

    /** Cancels the outbound body and drops what the inbound one holds; for handlers, once ended. */
    public void releaseBodies() {
        OutboundBody out = outbound;
        if (out != null) {
            out.cancel();
        }
        if (inbound != null) {
            inbound.discard();
        }
    }

    /** Ended by the connection (peer reset, closed); on the event loop. */
    void endBy(StreamEnd end) {
        if (end(true)) {
            notifyEnd(end);
        }
    }

    private boolean end(boolean reset) {
        if (!ended.compareAndSet(false, true)) {
            return false;
        }
        resetEnd = reset;
        connection.streamEnded(this);
        return true;
    }

    private void notifyEnd(StreamEnd end) {
        StreamHandler current = handler;
        if (current != null) {
            current.onEnd(end);
        } else {
            releaseBodies();
        }
    }

    // ------------------------------------------------------------------ the peer's frames (event loop)

    /** Opener: the first frame went out; the handler may start its body now. */
    void onStarted() {
        handler.onStarted();
    }

    /** One frame of the peer's for this stream; protocol section 7.2's rules. Takes over DATA content. */
    void receive(Frame frame) {
        if (ended.get()) {
            release(frame);
            return;
        }
        if (frame instanceof Frame.Data data) {
            if (!remoteStarted || remoteEnded || inbound == null) {
                data.content().release();
                violation(!remoteStarted ? "DATA before the first frame" : "DATA after END_STREAM");
                return;
            }
            // a flow-control violation throws ProtocolException: the connection closes, as it must
            inbound.onData(data.content(), data.endStream());
            if (data.endStream()) {
                remoteEnd();
            }
        } else if (frame instanceof Frame.Response response) {
            if (remoteStarted) {
                violation("a second RESPONSE");
                return;
            }
            remoteStarted = true;
            handler.onResponse(response);
            if (response.endStream()) {
                inbound.complete();
                remoteEnd();
            }
        } else if (frame instanceof Frame.Trailers trailers) {
            if (!remoteStarted || remoteEnded) {
                violation(!remoteStarted ? "TRAILERS before the first frame" : "TRAILERS after END_STREAM");
                return;
            }
            handler.onTrailers(trailers.headers());
            if (inbound != null) {
                inbound.complete();
            }
            remoteEnd();
        } else if (frame instanceof Frame.WindowUpdate update) {
            addCredit(update.increment());
        } else if (frame instanceof Frame.Reset reset) {
            endBy(new StreamEnd.PeerReset(reset.code(), reset.message()));
        }
    }

    private void remoteEnd() {
        remoteEnded = true;
        handler.onRemoteEnd();
    }

    private void violation(String what) {
        reset(ResetCode.PROTOCOL_ERROR, what + " on stream " + id);
    }

    private void addCredit(int increment) {
        OutboundBody body = outbound;
        if (body != null) {
            body.addCredit(increment);
            return;
        }
        pendingCredit.addAndGet(increment);
        body = outbound;
        if (body != null) {
            int credit = pendingCredit.getAndSet(0);
            if (credit > 0) {
                body.addCredit(credit);
            }
        }
    }

    private void inboundCancelled() {
        StreamHandler current = handler;
        if (current != null && !ended.get()) {
            current.onInboundCancelled();
        }
    }

    private void sendIfOpen(Frame frame) {
        if (!ended.get()) {
            connection.send(frame);
        }
    }

    static void release(Frame frame) {
        if (frame instanceof Frame.Data data) {
            data.content().release();
        }
    }

    @Override
    public String toString() {
        return "TunnelStream[" + id + ", " + state() + "]";
    }
}
