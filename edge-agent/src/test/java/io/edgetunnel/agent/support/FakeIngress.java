package io.edgetunnel.agent.support;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.session.ConnectionSide;
import io.edgetunnel.protocol.session.Role;
import io.edgetunnel.protocol.session.SessionLimits;
import io.edgetunnel.protocol.session.StreamSettings;
import io.edgetunnel.protocol.session.TunnelConnection;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A fake ingress tunnel endpoint: a WebSocket server on {@code /tunnel} whose connections are
 * shared-protocol's session core in the opener role, as the real ingress's. The core answers pings
 * (unless the tunnel {@link Tunnel#goSilent went silent}), takes pongs and the agent's drain, and
 * runs the close sequence; the fake answers each hello as the test says.
 *
 * <p>The test plays the ingress's stream layer by hand: it picks stream ids, may reuse one on
 * purpose, and reads the agent's RESPONSE, DATA, TRAILERS, WINDOW_UPDATE and RESET frames itself. So
 * a recording tap decodes every message first and records every frame but pings (DATA content
 * copied to unpooled heap buffers, so tests release nothing); stream frames go no further (the core's
 * stream table would close with 4005 on a stream it did not open), everything else goes on to the
 * core. The fake sends no heartbeat pings of its own, as before: a test reads the agent's frames in
 * order, and the Pong answering ours would be among them.
 */
public final class FakeIngress implements AutoCloseable {

    public static final FrameCodec CODEC = new FrameCodec(ProtocolLimits.DEFAULTS);

    /** The fake's own heartbeat never fires within a test (see the class comment). */
    private static final Duration NO_HEARTBEAT = Duration.ofDays(1);

    private static final SessionLimits LIMITS = new SessionLimits(3, 64L * 1024 * 1024, Duration.ofSeconds(5));

    private final DisposableServer server;
    private final Function<Frame.Hello, Frame> onHello;
    // lock-free: frames are added on an event loop, where BlockHound forbids waiting for a lock
    private final BlockingQueue<Tunnel> tunnels = new LinkedTransferQueue<>();
    private final List<Tunnel> all = new CopyOnWriteArrayList<>();

    /** @param onHello the answer to a hello (Accept or Reject), or null to answer by hand */
    public FakeIngress(int port, Function<Frame.Hello, Frame> onHello) {
        this.onHello = onHello;
        this.server = HttpServer.create()
                .host("127.0.0.1")
                .port(port)
                .route(routes -> routes.ws(
                        "/tunnel",
                        this::handle,
                        WebsocketServerSpec.builder()
                                .maxFramePayloadLength(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES)
                                .build()))
                .bindNow();
    }

    public static Frame.Accept accept(int window, int maxStreams, int heartbeatMillis) {
        return new Frame.Accept(1, "session-1", ProtocolLimits.DEFAULT_MAX_FRAME_BYTES, window, maxStreams, heartbeatMillis);
    }

    /** A version 2 Accept naming the replica the tunnel reached and how many replicas there are. */
    public static Frame.Accept accept(String replicaId, int replicaCount) {
        return new Frame.Accept(2, "session-" + replicaId, ProtocolLimits.DEFAULT_MAX_FRAME_BYTES, 65536, 100, 1000,
                replicaId, replicaCount);
    }

    public int port() {
        return server.port();
    }

    public String uri() {
        return "ws://127.0.0.1:" + port() + "/tunnel";
    }

    /** The next tunnel that sent its hello. */
    public Tunnel awaitTunnel(Duration timeout) throws InterruptedException {
        Tunnel tunnel = tunnels.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (tunnel == null) {
            throw new AssertionError("no tunnel within " + timeout);
        }
        return tunnel;
    }

    public List<Tunnel> tunnels() {
        return all;
    }

    @Override
    public void close() {
        server.disposeNow();
    }

    private Mono<Void> handle(WebsocketInbound in, WebsocketOutbound out) {
        AtomicReference<Channel> channel = new AtomicReference<>();
        in.withConnection(c -> channel.set(c.channel()));
        Tunnel tunnel = new Tunnel(out, channel.get());
        TunnelConnection connection = tunnel.connection;
        Mono<Void> sending = out.sendObject(connection.frames().frames().map(BinaryWebSocketFrame::new))
                .then()
                .then(Mono.defer(() -> tunnel.sendClose()))
                .onErrorResume(e -> Mono.empty());
        in.receiveCloseStatus().subscribe(status -> tunnel.closeStatus = status.code());
        Mono<Void> receiving = in.aggregateFrames(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES)
                .receiveFrames()
                .doOnNext(tunnel::onMessage)
                .count()
                .then()
                .doOnError(e -> System.err.println("fake ingress: tunnel failed: " + e))
                .onErrorResume(e -> Mono.empty())
                .doFinally(s -> {
                    tunnel.closed = true;
                    connection.disconnected();
                });
        return Mono.when(sending, receiving);
    }

    /** One agent connection as the fake sees it. */
    public final class Tunnel implements ConnectionSide {
        private final WebsocketOutbound out;
        private final TunnelConnection connection;
        private final BlockingQueue<Frame> received = new LinkedTransferQueue<>();
        private volatile Frame.Hello hello;
        private volatile long helloNanos;
        private volatile int closeCode = -1;
        private volatile String closeReason = "";
        volatile boolean closed;
        volatile Integer closeStatus;
        volatile boolean silent;

        Tunnel(WebsocketOutbound out, Channel channel) {
            this.out = out;
            this.connection = new TunnelConnection(Role.OPENER, "fake-ingress", CODEC, out.alloc(), channel.eventLoop(),
                    LIMITS, this, channel::close);
        }

        public Frame.Hello hello() {
            return hello;
        }

        /** Queues a frame as it is; an Accept opens the session (streams, pings answered by the core). */
        public void send(Frame frame) {
            connection.send(frame);
            if (frame instanceof Frame.Accept accept && !connection.isOpen()) {
                int chunk = Math.min(64 * 1024, accept.maxFramePayload() - FrameCodec.HEADER_BYTES);
                connection.open(NO_HEARTBEAT,
                        new StreamSettings(accept.initialStreamWindow(), chunk, WindowGrowth.NONE, new LongAdder()),
                        accept.maxConcurrentStreams());
            }
        }

        /** Stops answering pings, as a dead peer behind a live TCP connection would. */
        public void goSilent() {
            silent = true;
        }

        /** Sends bytes that are not a valid frame, as one binary message, past the core. */
        public void sendRaw(byte[] bytes) {
            out.sendObject(Mono.just(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes))))
                    .then()
                    .subscribe(null, e -> {});
        }

        public long helloNanos() {
            return helloNanos;
        }

        /** Closes with any status: queued frames go out first, then the close frame. */
        public void close(int code, String reason) {
            CloseCode known = Arrays.stream(CloseCode.values()).filter(c -> c.code() == code).findFirst()
                    .orElse(CloseCode.PROTOCOL_ERROR);
            closeCode = code;
            closeReason = reason;
            connection.close(known, reason);
        }

        private Mono<Void> sendClose() {
            int code = closeCode;
            return code < 0
                    ? out.sendClose(connection.closeCode().code(), connection.closeReason())
                    : out.sendClose(code, closeReason);
        }

        public boolean isClosed() {
            return closed;
        }

        /** The WebSocket close status the agent sent, if any. */
        public Integer closeStatus() {
            return closeStatus;
        }

        /** The next frame other than a ping; DATA content is an unpooled copy. */
        public Frame next(Duration timeout) throws InterruptedException {
            Frame frame = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (frame == null) {
                throw new AssertionError("no frame within " + timeout);
            }
            return frame;
        }

        public Frame poll() {
            return received.poll();
        }

        @SuppressWarnings("unchecked")
        public <T extends Frame> T next(Class<T> type, Duration timeout) throws InterruptedException {
            Frame frame = next(timeout);
            if (!type.isInstance(frame)) {
                throw new AssertionError("expected " + type.getSimpleName() + " but got " + frame);
            }
            return (T) frame;
        }

        /** The recording tap: every message is decoded and recorded before the core sees it. */
        private void onMessage(WebSocketFrame message) {
            if (!(message instanceof BinaryWebSocketFrame)) {
                return;
            }
            Frame frame;
            try {
                frame = CODEC.decode(message.content().duplicate());
            } catch (ProtocolException e) {
                connection.receive(message); // the core closes with the error's code
                return;
            }
            if (frame instanceof Frame.Data data) {
                ByteBuf content = data.content();
                byte[] copy = ByteBufUtil.getBytes(content);
                content.release();
                frame = new Frame.Data(data.streamId(), Unpooled.wrappedBuffer(copy), data.endStream());
            }
            if (frame instanceof Frame.Ping) {
                if (!silent) {
                    connection.receive(message);
                }
                return;
            }
            boolean firstHello = frame instanceof Frame.Hello && hello == null;
            if (!firstHello) {
                received.add(frame);
            }
            if (!isStreamFrame(frame)) {
                connection.receive(message);
            }
        }

        private boolean isStreamFrame(Frame frame) {
            return frame instanceof Frame.Request || frame instanceof Frame.Response || frame instanceof Frame.Data
                    || frame instanceof Frame.Trailers || frame instanceof Frame.WindowUpdate
                    || frame instanceof Frame.Reset;
        }

        // ------------------------------------------------------------------ ConnectionSide

        @Override
        public void onHandshake(Frame frame) {
            if (frame instanceof Frame.Ping ping) {
                connection.answerPing(ping.payload()); // before the Accept, as the ingress during authentication
                return;
            }
            if (!(frame instanceof Frame.Hello h) || hello != null) {
                return; // recorded by the tap; the test judges it
            }
            hello = h;
            helloNanos = System.nanoTime();
            // answer first: a test that gets the tunnel may send at once, and must come after
            Frame answer = onHello == null ? null : onHello.apply(h);
            if (answer != null) {
                send(answer);
                if (answer instanceof Frame.Reject) {
                    close(4010, "rejected");
                }
            }
            all.add(this);
            tunnels.add(this);
        }

        /** ROUTE_HEALTH, a second HELLO and the like: recorded by the tap, for the test to judge. */
        @Override
        public void onControl(Frame frame) {}
    }
}
