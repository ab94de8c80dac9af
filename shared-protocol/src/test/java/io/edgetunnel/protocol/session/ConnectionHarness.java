package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.DefaultEventLoop;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import reactor.core.Disposable;

/**
 * One {@link TunnelConnection} on its own event loop, driven by a scripted peer: {@link #deliver}
 * hands it frames as the peer would send them, {@link #next} reads what it sent (heartbeat Pings
 * left out). Records what its {@link TunnelConnection.Side} and stream handlers were told.
 */
final class ConnectionHarness implements AutoCloseable {

    static final FrameCodec CODEC = new FrameCodec(ProtocolLimits.DEFAULTS);
    static final int WINDOW = 65536;

    final DefaultEventLoop loop = new DefaultEventLoop();
    final TunnelConnection connection;
    final BlockingQueue<Frame> sent = new LinkedTransferQueue<>();
    final AtomicInteger forceClosed = new AtomicInteger();
    final List<String> sideEvents = new CopyOnWriteArrayList<>();
    private final Disposable writer;
    /** Acceptor: what to do with a REQUEST; default takes it with a recording handler. */
    volatile BiConsumer<TunnelStream, Frame.Request> onRequest = (stream, request) -> {
        Recording handler = new Recording();
        handler.stream = stream;
        stream.accept(handler);
    };
    final BlockingQueue<TunnelStream> accepted = new LinkedTransferQueue<>();

    ConnectionHarness(Role role) {
        this(role, new SessionLimits(3, 16L * 1024 * 1024, Duration.ofSeconds(5)));
    }

    ConnectionHarness(Role role, SessionLimits limits) {
        connection = new TunnelConnection(role, "test-" + role, CODEC, UnpooledByteBufAllocator.DEFAULT, loop, limits,
                new ConnectionSide() {
                    @Override
                    public void onHandshake(Frame frame) {
                        sideEvents.add("handshake " + frame.getClass().getSimpleName());
                    }

                    @Override
                    public void onRequest(TunnelStream stream, Frame.Request request) {
                        onRequest.accept(stream, request);
                        if (!stream.isEnded()) {
                            accepted.add(stream);
                        }
                    }

                    @Override
                    public void onPeerDrain(String reason, boolean wasDraining) {
                        sideEvents.add("peer drain " + reason);
                    }

                    @Override
                    public void onStreamsIdle() {
                        sideEvents.add("idle");
                    }
                },
                forceClosed::incrementAndGet);
        writer = connection.frames().frames().subscribe(this::written);
    }

    /** Opens the connection as a handshake would: 1 hour heartbeat unless said otherwise. */
    ConnectionHarness opened() {
        return opened(Duration.ofHours(1));
    }

    ConnectionHarness opened(Duration heartbeat) {
        connection.open(heartbeat, new StreamSettings(WINDOW, 16384, WindowGrowth.NONE, new LongAdder()), 100);
        return this;
    }

    private void written(ByteBuf buf) {
        try {
            Frame frame = CODEC.decode(buf);
            if (frame instanceof Frame.Data data) {
                data.content().release();
            }
            if (!(frame instanceof Frame.Ping ping) || ping.payload() == TunnelConnection.DRAIN_BARRIER) {
                sent.add(frame);
            }
        } finally {
            buf.release();
        }
    }

    /** Hands {@code frame} to the connection as the peer's next message, on its loop. */
    void deliver(Frame frame) {
        ByteBuf encoded = CODEC.encode(frame, UnpooledByteBufAllocator.DEFAULT);
        BinaryWebSocketFrame message = new BinaryWebSocketFrame(encoded);
        loop.execute(() -> {
            try {
                connection.receive(message);
            } finally {
                message.release();
            }
        });
    }

    /** The next frame it sent, or null after {@code timeout}. */
    Frame next(Duration timeout) throws InterruptedException {
        return sent.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    Frame next() throws InterruptedException {
        Frame frame = next(Duration.ofSeconds(10));
        if (frame == null) {
            throw new AssertionError("no frame within 10 s");
        }
        return frame;
    }

    /** Runs {@code task} on the loop and waits for it, so everything queued before it ran. */
    void sync() throws Exception {
        loop.submit(() -> {}).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        connection.close(CloseCode.NORMAL, "test done");
        writer.dispose();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** A handler that records what it is told, and on which thread. */
    final class Recording implements StreamHandler {
        final BlockingQueue<Object> events = new LinkedTransferQueue<>();
        volatile boolean endOnLoop;
        volatile boolean inboundSetAtEnd;
        volatile TunnelStream stream;

        @Override
        public void onResponse(Frame.Response response) {
            events.add(response);
        }

        @Override
        public void onRemoteEnd() {
            events.add("remote end");
        }

        @Override
        public void onEnd(StreamEnd end) {
            endOnLoop = loop.inEventLoop();
            TunnelStream current = stream;
            inboundSetAtEnd = current != null && current.inbound() != null;
            if (current != null) {
                current.releaseBodies();
            }
            events.add(end);
        }

        StreamEnd awaitEnd() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                Object event = events.poll(100, TimeUnit.MILLISECONDS);
                if (event instanceof StreamEnd end) {
                    return end;
                }
            }
            throw new AssertionError("stream did not end within 10 s");
        }
    }
}
