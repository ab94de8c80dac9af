package io.edgetunnel.runtime.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * One TCP socket as the two directions of a tunnel stream, with TCP's half-close kept: the bytes
 * the socket receives are a {@link Publisher} (read only on demand, so a tunnel without credit stops
 * reading the socket and the kernel's window pushes back on the peer), completed by the peer's FIN;
 * the bytes of {@link #writeFrom a source} are written to the socket and its completion becomes our
 * FIN ({@code shutdownOutput}). {@link #reset} aborts with a TCP RST (SO_LINGER 0), never a clean
 * close, so a peer can tell an aborted transfer from a finished one.
 *
 * <p>The channel must be set up with {@code AUTO_READ} false and {@code ALLOW_HALF_CLOSURE} true
 * ({@link #configure}). Reading state lives on the channel's event loop; every method may be called
 * from any thread. Written buffers are released by the socket once written: the stream's credit
 * returns then, so a slow reader holds at most one window here.
 */
public final class SocketBridge extends ChannelInboundHandlerAdapter implements Publisher<ByteBuf> {

    /** What the owner learns about the socket. */
    public interface Listener {

        /** Every byte of {@link #writeFrom}'s source was written, then our FIN went out. */
        void outputShutdown();

        /** The socket failed (reset, I/O error, closed while a direction was open, idle). */
        void failed(Throwable cause);
    }

    /** The socket was closed or reset by the peer before both directions had ended. */
    public static final class SocketClosedException extends IOException {
        public SocketClosedException(String message) {
            super(message);
        }
    }

    /** No byte moved either way for the idle timeout. */
    public static final class IdleException extends IOException {
        public IdleException(String message) {
            super(message);
        }
    }

    /** Buffers read from the socket ahead of the stream's demand, at most. */
    private static final int READ_AHEAD = 2;

    private final Channel channel;
    private final Duration idleTimeout;
    private final Listener listener;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();

    // reading side: event loop only
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>(2);
    private Subscriber<? super ByteBuf> reader;
    private long demand;
    private boolean inputShut;
    private boolean readerDone;
    private Throwable readFailure;

    private volatile boolean outputShut;

    private SocketBridge(Channel channel, Duration idleTimeout, Listener listener) {
        this.channel = channel;
        this.idleTimeout = idleTimeout;
        this.listener = listener;
    }

    /** Options every bridged socket needs: reads on demand, FIN as an event, keepalive. */
    public static void configure(Channel channel) {
        channel.config().setAutoRead(false);
        channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        channel.config().setOption(ChannelOption.SO_KEEPALIVE, true);
        channel.config().setOption(ChannelOption.TCP_NODELAY, true);
    }

    /**
     * Configures {@code channel} and adds the bridge last in its pipeline.
     *
     * @param idleTimeout time without a byte either way after which the socket fails with an {@link
     *     IdleException}; zero turns it off
     */
    public static SocketBridge install(Channel channel, Duration idleTimeout, Listener listener) {
        Objects.requireNonNull(listener, "listener");
        configure(channel);
        SocketBridge bridge = new SocketBridge(channel, idleTimeout, listener);
        if (!idleTimeout.isZero()) {
            channel.pipeline().addLast("idle", new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        channel.pipeline().addLast("socketBridge", bridge);
        return bridge;
    }

    public Channel channel() {
        return channel;
    }

    /**
     * Re-registers the socket on {@code target}, the event loop of the tunnel (or peer link) that
     * carries its stream, then runs {@code then}. A socket accepted on one loop and streamed over a
     * tunnel on another hands every chunk and every credit grant from one thread to the other: a
     * wake-up each way (measured: ~18,000 context switches per GiB of a TCP route's download on the
     * ingress). Call before anything subscribed to or wrote through the bridge; bytes read ahead stay
     * queued. {@code then} runs on the socket's loop once it moved, or at once when there is nothing to
     * move (same loop, no target, closed). A loop of another transport refuses the channel: it goes
     * back to its own loop. Should that fail too, it is closed, and the bridge's reader and writer then
     * fail as on any closed socket; {@code then} runs in every case.
     */
    public void moveTo(EventLoop target, Runnable then) {
        EventLoop current = channel.eventLoop();
        if (target == null || target == current || !channel.isOpen()) {
            then.run();
            return;
        }
        channel.deregister().addListener(deregistered -> {
            if (!deregistered.isSuccess()) {
                channel.close();
                then.run();
                return;
            }
            target.register(channel).addListener(registered -> {
                if (registered.isSuccess()) {
                    then.run();
                    return;
                }
                current.register(channel).addListener(back -> {
                    if (!back.isSuccess()) {
                        channel.close();
                    }
                    then.run();
                });
            });
        });
    }

    /** Bytes received from the socket so far. */
    public long bytesRead() {
        return bytesRead.get();
    }

    /** Bytes written to the socket so far. */
    public long bytesWritten() {
        return bytesWritten.get();
    }

    // ------------------------------------------------------------------ socket → stream

    @Override
    public void subscribe(Subscriber<? super ByteBuf> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        channel.eventLoop().execute(() -> {
            if (reader != null) {
                subscriber.onSubscribe(new Subscription() {
                    @Override
                    public void request(long n) {
                    }

                    @Override
                    public void cancel() {
                    }
                });
                subscriber.onError(new IllegalStateException("socket bridge: a second subscriber (expected: one)"));
                return;
            }
            reader = subscriber;
            subscriber.onSubscribe(new Subscription() {
                @Override
                public void request(long n) {
                    onLoop(() -> {
                        if (n <= 0) {
                            failReader(new IllegalArgumentException("request: " + n + " (expected: > 0)"));
                            return;
                        }
                        demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                        drain();
                    });
                }

                @Override
                public void cancel() {
                    channel.eventLoop().execute(() -> {
                        readerDone = true;
                        releaseQueue();
                    });
                }
            });
            drain();
        });
    }

    /** Runs {@code task} on the channel's loop: at once when already there (no task queue hop per chunk). */
    private void onLoop(Runnable task) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
        } else {
            channel.eventLoop().execute(task);
        }
    }

    private void drain() {
        if (reader == null) {
            // bytes read before anyone subscribed (epoll reads a peer's last bytes with its FIN) wait
            return;
        }
        if (readerDone) {
            releaseQueue();
            return;
        }
        while (demand > 0 && !queue.isEmpty()) {
            demand--;
            reader.onNext(queue.poll());
            if (readerDone) {
                releaseQueue();
                return;
            }
        }
        if (queue.isEmpty() && readFailure != null) {
            failReader(readFailure);
            return;
        } else if (queue.isEmpty() && inputShut) {
            readerDone = true;
            reader.onComplete();
        }
        if (!inputShut && readFailure == null && queue.size() < READ_AHEAD && channel.isActive()) {
            // without auto-read one read() is one channelRead: reading one buffer ahead of demand keeps
            // the socket busy while the stream sends, and holds at most READ_AHEAD buffers here
            channel.read();
        }
    }

    private void failReader(Throwable cause) {
        if (reader != null && !readerDone) {
            readerDone = true;
            releaseQueue();
            reader.onError(cause);
        }
    }

    private void releaseQueue() {
        ByteBuf buf;
        while ((buf = queue.poll()) != null) {
            buf.release();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf) || readerDone) {
            ReferenceCountUtil.release(msg);
            return;
        }
        bytesRead.addAndGet(buf.readableBytes());
        queue.add(buf);
        drain();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShut = true;
            drain();
        } else if (evt instanceof IdleStateEvent) {
            socketFailed(new IdleException("no byte either way for " + idleTimeout));
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        socketFailed(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        socketFailed(new SocketClosedException("connection closed"));
        if (reader == null) {
            releaseQueue(); // never subscribed (refused, no agent): nobody will take these
        }
        ctx.fireChannelInactive();
    }

    private void socketFailed(Throwable cause) {
        if (readFailure == null && !(inputShut && outputShut)) {
            readFailure = cause;
            drain();
        }
        if (closing.compareAndSet(false, true)) {
            if (channel.isActive()) {
                rst();
            }
            listener.failed(cause);
        }
    }

    // ------------------------------------------------------------------ stream → socket

    /**
     * Writes {@code source}'s buffers to the socket (each released once written) and, when it
     * completes, sends our FIN. An error of the source resets the socket.
     */
    public void writeFrom(Publisher<ByteBuf> source) {
        source.subscribe(new SocketWriter(channel, bytesWritten, () -> {
            outputShut = true;
            listener.outputShutdown();
        }, this::reset));
    }

    // ------------------------------------------------------------------ ending

    /** Both directions ended: a normal close. */
    public void close() {
        if (closing.compareAndSet(false, true)) {
            channel.close();
        }
    }

    /** Aborts with a TCP RST: the peer sees "connection reset", never a clean end of stream. */
    public void reset() {
        if (closing.compareAndSet(false, true)) {
            if (channel.eventLoop().inEventLoop()) {
                rst();
            } else {
                channel.eventLoop().execute(this::rst);
            }
        }
    }

    private void rst() {
        if (channel.isOpen()) {
            // SO_LINGER 0 makes close() send RST and drop unsent bytes
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
            channel.close();
        }
    }
}
