package io.edgetunnel.agent.support;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.stream.OutboundFrames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A fake ingress tunnel endpoint built from the protocol classes: a WebSocket server on {@code
 * /tunnel} that answers each hello as the test says and records every frame the agent sends (pings are answered
 * and not recorded). DATA content is copied to unpooled heap buffers, so tests release nothing.
 */
public final class FakeIngress implements AutoCloseable {

    public static final FrameCodec CODEC = new FrameCodec(ProtocolLimits.DEFAULTS);

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
        Tunnel tunnel = new Tunnel(out);
        Mono<Void> sending = out.send(tunnel.frames.frames()).then().onErrorResume(e -> Mono.empty());
        in.receiveCloseStatus().subscribe(status -> tunnel.closeStatus = status.code());
        Mono<Void> receiving = in.aggregateFrames(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES)
                .receiveFrames()
                .doOnNext(ws -> {
                    if (ws instanceof BinaryWebSocketFrame) {
                        tunnel.onFrame(CODEC.decode(ws.content()));
                    }
                })
                .count()
                .then()
                .doOnError(e -> System.err.println("fake ingress: tunnel failed: " + e))
                .onErrorResume(e -> Mono.empty())
                .doFinally(s -> {
                    tunnel.closed = true;
                    tunnel.frames.close();
                });
        return Mono.when(sending, receiving);
    }

    /** One agent connection as the fake sees it. */
    public final class Tunnel {
        private final WebsocketOutbound out;
        private final OutboundFrames frames;
        private final BlockingQueue<Frame> received = new LinkedTransferQueue<>();
        private volatile Frame.Hello hello;
        private volatile long helloNanos;
        volatile boolean closed;
        volatile Integer closeStatus;
        volatile boolean silent;

        Tunnel(WebsocketOutbound out) {
            this.out = out;
            this.frames = new OutboundFrames(CODEC, out.alloc(), 64L * 1024 * 1024, e -> {});
        }

        public Frame.Hello hello() {
            return hello;
        }

        public void send(Frame frame) {
            frames.send(frame);
        }

        /** Stops answering pings, as a dead peer behind a live TCP connection would. */
        public void goSilent() {
            silent = true;
        }

        /** Sends bytes that are not a valid frame, as one binary message. */
        public void sendRaw(byte[] bytes) {
            out.sendObject(Mono.just(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes))))
                    .then()
                    .subscribe(null, e -> {});
        }

        public long helloNanos() {
            return helloNanos;
        }

        public void close(int code, String reason) {
            frames.close();
            out.sendClose(code, reason).subscribe(null, e -> {});
        }

        public boolean isClosed() {
            return closed;
        }

        /** The WebSocket close status the agent sent, if any. */
        public Integer closeStatus() {
            return closeStatus;
        }

        /** The next frame other than ping/pong; DATA content is an unpooled copy. */
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

        private void onFrame(Frame frame) {
            if (frame instanceof Frame.Data data) {
                ByteBuf content = data.content();
                byte[] copy = ByteBufUtil.getBytes(content);
                content.release();
                frame = new Frame.Data(data.streamId(), Unpooled.wrappedBuffer(copy), data.endStream());
            }
            if (frame instanceof Frame.Hello h && hello == null) {
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
                return;
            }
            if (frame instanceof Frame.Ping ping) {
                if (!silent) {
                    send(new Frame.Pong(ping.payload()));
                }
                return;
            }
            received.add(frame);
        }
    }
}
