package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.stream.Heartbeat;
import io.edgetunnel.protocol.stream.OutboundFrames;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.Schedulers;

/**
 * One tunnel connection, the same class at both ends ({@link Role}): frame intake and the mapping
 * of errors to close codes, the stream table, ping/pong, heartbeat and round trip, both halves of
 * the drain barrier, the close sequence and the outbound frame queue. What differs per side (the
 * handshake, admission of streams, what a stream does) comes through its {@link ConnectionSide} and the
 * {@link StreamHandler} each stream gets.
 *
 * <p>The stream table and the connection's state change on its event loop only; other threads hand
 * work to it. Opening a stream and queueing its REQUEST is one task on the loop, so nothing the loop
 * queues later (a Pong answering the agent's drain barrier, our own Drain) can overtake a REQUEST of
 * a stream opened before. Frames are sent from any thread through the thread-safe queue.
 */
public final class TunnelConnection {

    private static final Logger log = LoggerFactory.getLogger(TunnelConnection.class);

    /** Payload of the Ping the acceptor sends right after its Drain (see {@link DrainBarrier}). */
    public static final long DRAIN_BARRIER = DrainBarrier.PAYLOAD;

    private final Role role;
    private final String name;
    private final FrameCodec codec;
    private final EventExecutor eventLoop;
    private final SessionLimits limits;
    private final ConnectionSide side;
    private final Runnable forceClose;
    private final OutboundFrames frames;

    private final StreamTable streams;
    private final DrainBarrier drain;
    private final FrameIntake intake;
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean open;
    private volatile StreamSettings settings;
    private volatile int maxConcurrentStreams;
    private volatile Heartbeat heartbeat;
    private volatile long roundTripNanos;
    private volatile CloseCode closeCode = CloseCode.NORMAL;
    private volatile String closeReason = "";

    /**
     * @param eventLoop the connection's event loop
     * @param forceClose drops the connection at once, without a close handshake
     */
    public TunnelConnection(Role role, String name, FrameCodec codec, ByteBufAllocator alloc, EventExecutor eventLoop,
            SessionLimits limits, ConnectionSide side, Runnable forceClose) {
        this.role = Objects.requireNonNull(role, "role");
        this.streams = new StreamTable(role);
        this.drain = new DrainBarrier(role);
        this.intake = new FrameIntake(this, codec, side, streams, drain);
        this.name = name;
        this.codec = codec;
        this.eventLoop = Objects.requireNonNull(eventLoop, "eventLoop");
        this.limits = limits;
        this.side = side;
        this.forceClose = forceClose;
        this.frames = new OutboundFrames(codec, alloc, limits.maxQueuedBytes(), this::fail);
    }

    public Role role() {
        return role;
    }

    /** The outbound queue; its {@link OutboundFrames#frames()} are for the WebSocket writer. */
    public OutboundFrames frames() {
        return frames;
    }

    public EventExecutor eventLoop() {
        return eventLoop;
    }

    /** Runs {@code task} on the event loop: now when called there, else queued behind what is. */
    public void execute(Runnable task) {
        if (eventLoop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            eventLoop.execute(task);
        } catch (RejectedExecutionException e) {
            task.run(); // the loop is shutting down: nothing else runs there any more
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /** The handshake succeeded: streams may open and the heartbeat starts. Any thread. */
    public void open(Duration heartbeatInterval, StreamSettings settings, int maxConcurrentStreams) {
        this.settings = settings;
        this.maxConcurrentStreams = maxConcurrentStreams;
        Heartbeat beat = new Heartbeat(
                heartbeatInterval,
                limits.missedHeartbeats(),
                frames,
                () -> close(CloseCode.HEARTBEAT_TIMEOUT, "no frame from the " + role.peerName() + " for "
                        + heartbeatInterval.multipliedBy(limits.missedHeartbeats()).toMillis() + " ms"),
                Schedulers.parallel(),
                rtt -> {
                    roundTripNanos = rtt;
                    settings.growth().roundTrip(rtt);
                });
        heartbeat = beat;
        open = true;
        beat.start();
    }

    public boolean isOpen() {
        return open && !closing.get();
    }

    public boolean isDraining() {
        return drain.draining();
    }

    public boolean isClosing() {
        return closing.get();
    }

    public int activeStreams() {
        return streams.active();
    }

    public int maxConcurrentStreams() {
        return maxConcurrentStreams;
    }

    public StreamSettings streamSettings() {
        return settings;
    }

    /** The last heartbeat round trip; 0 before the first. */
    public long roundTripNanos() {
        return roundTripNanos;
    }

    public CloseCode closeCode() {
        return closeCode;
    }

    /** The close frame's reason, at most {@link CloseReasons#MAX_BYTES} of UTF-8. */
    public String closeReason() {
        return closeReason;
    }

    boolean opened() {
        return open;
    }

    Heartbeat heartbeat() {
        return heartbeat;
    }

    String name() {
        return name;
    }

    public long queuedBytes() {
        return frames.queuedBytes();
    }

    // ------------------------------------------------------------------ sending

    /** Queues a frame; dropped (DATA released) once the connection closed. Any thread. */
    public void send(Frame frame) {
        frames.send(frame);
    }

    public boolean writable() {
        return frames.writable();
    }

    public void whenWritable(Runnable task) {
        frames.whenWritable(task);
    }

    /** Answers a Ping (the ingress does so during authentication, before {@link #open}). */
    public void answerPing(long payload) {
        frames.send(new Frame.Pong(payload));
    }

    // ------------------------------------------------------------------ streams

    /**
     * Opener: opens a stream whose REQUEST {@code first} builds from the new id, with the handler
     * {@code handlerFactory} makes for it. Returns null when the connection takes no new stream now
     * (not open, draining, closing, at its limit). The REQUEST is queued on the event loop; should
     * the connection close or start draining before that, the handler gets {@link
     * StreamEnd.TunnelClosed} with {@code sent} false and nothing went out. Any thread.
     */
    public TunnelStream openStream(IntFunction<Frame.Request> first, Function<TunnelStream, StreamHandler> handlerFactory) {
        if (role != Role.OPENER) {
            throw new IllegalStateException("the " + role + " opens no streams");
        }
        if (!open || drain.draining() || closing.get()) {
            return null;
        }
        int id = streams.admit(maxConcurrentStreams);
        if (id <= 0) {
            if (id == 0) {
                drain.stopAdmitting(); // stream ids exhausted: let this tunnel drain and the agent reconnect
            }
            return null;
        }
        side.onStreamCount(1);
        TunnelStream stream = new TunnelStream(this, id, settings, true);
        stream.count();
        stream.attach(handlerFactory.apply(stream));
        Frame.Request request = first.apply(id);
        stream.started(request.endStream(), false, false);
        execute(() -> start(stream, request));
        return stream;
    }

    private void start(TunnelStream stream, Frame.Request request) {
        if (stream.isEnded()) {
            return; // given up before its REQUEST went out
        }
        if (closing.get() || drain.requestsClosed()) {
            stream.endBy(new StreamEnd.TunnelClosed(
                    closing.get() ? "tunnel closed" : "tunnel draining", false));
            return;
        }
        streams.put(stream);
        frames.send(request);
        stream.onStarted();
    }

    /** Called by {@link TunnelStream#accept}: the acceptor's stream joins the table (event loop). */
    void accepted(TunnelStream stream, StreamHandler handler) {
        stream.attach(handler);
        stream.count();
        streams.add(stream);
        side.onStreamCount(1);
    }

    /** A stream ended, on any thread: it leaves the table on the loop. */
    void streamEnded(TunnelStream stream) {
        if (!stream.counted()) {
            return;
        }
        streams.uncount();
        side.onStreamCount(-1);
        execute(() -> {
            streams.remove(stream);
            checkIdle();
        });
    }

    void checkIdle() {
        if (streams.isEmpty() && drain.draining() && drain.settled() && !closing.get()) {
            side.onStreamsIdle();
        }
    }

    // ------------------------------------------------------------------ inbound (event loop)

    /** One WebSocket message from the peer, on the event loop. Never throws: errors close the connection. */
    public void receive(WebSocketFrame message) {
        if (!closing.get()) {
            intake.receive(message);
        }
    }

    /** Closes for a protocol violation (the side logs it first). Any thread. */
    public void fail(ProtocolException error) {
        if (closing.get()) {
            return;
        }
        side.onProtocolError(error);
        close(error.closeCode(), error.getMessage());
    }

    // ------------------------------------------------------------------ drain

    /**
     * Announces drain: no new streams. The acceptor follows its Drain with the barrier Ping, and
     * {@link #drainSettled} turns true once the Pong answering it arrived. Any thread.
     */
    public void drain(String reason) {
        if (!open || closing.get()) {
            drain.settle();
            return;
        }
        if (drain.draining()) {
            return;
        }
        drain.stopAdmitting();
        execute(() -> drain.ownDrain(reason).forEach(frames::send));
    }

    /**
     * After {@link #drain}: true once the peer confirmed it saw our Drain (no stream of it can still be
     * on the way) or the connection is closing; closing earlier could lose such a stream.
     */
    public boolean drainSettled() {
        return drain.settled() || closing.get();
    }

    // ------------------------------------------------------------------ close

    /**
     * Closes the connection: queued frames go out, then the WebSocket close with {@code code} and
     * {@code reason} (cut to {@link CloseReasons#MAX_BYTES} of UTF-8). Streams end with {@link
     * StreamEnd.TunnelClosed} on the event loop. Any thread; only the first call counts.
     */
    public void close(CloseCode code, String reason) {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        closeCode = code;
        closeReason = CloseReasons.truncate(reason);
        stopHeartbeat();
        side.onClose(code, reason);
        execute(() -> teardown("tunnel closed: " + code + " " + reason));
        if (code == CloseCode.SLOW_CONSUMER) {
            // the peer is not reading: a close frame would queue behind everything else
            forceClose.run();
        } else if (limits.closeBackstop().isZero()) {
            forceClose.run();
        } else {
            // backstop should the flush or the close handshake never finish
            Schedulers.parallel().schedule(forceClose, limits.closeBackstop().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The connection is gone (the peer closed it, or the network): end everything, send nothing. */
    public void disconnected() {
        if (closing.compareAndSet(false, true)) {
            closeCode = CloseCode.GOING_AWAY;
            closeReason = "connection closed";
            stopHeartbeat();
            execute(() -> teardown("tunnel closed: connection lost"));
        }
    }

    private void teardown(String why) {
        frames.close();
        for (TunnelStream stream : streams.removeAll()) {
            try {
                stream.endBy(new StreamEnd.TunnelClosed(why, true));
            } catch (RuntimeException e) {
                log.warn("{}: stream {} failed to close cleanly", name, stream.id(), e);
            }
        }
    }

    private void stopHeartbeat() {
        Heartbeat beat = heartbeat;
        if (beat != null) {
            beat.stop();
        }
    }

    @Override
    public String toString() {
        return "TunnelConnection[" + name + ", " + role + "]";
    }
}
