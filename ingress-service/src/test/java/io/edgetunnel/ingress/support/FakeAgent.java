package io.edgetunnel.ingress.support;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.ConnectionNonce;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.session.ConnectionSide;
import io.edgetunnel.protocol.session.Role;
import io.edgetunnel.protocol.session.SessionLimits;
import io.edgetunnel.protocol.session.StreamSettings;
import io.edgetunnel.protocol.session.TunnelConnection;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCounted;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A protocol-level agent for tests: a raw Reactor Netty WebSocket client whose session is
 * shared-protocol's core in the acceptor role, as the real agent's. The core keeps the stream table
 * (every REQUEST is accepted; a stream ends on the ingress's RESET or when the tunnel goes), reads
 * request bodies and grants their credit, answers pings (unless {@link #answerPings} turned that
 * off), takes pongs and the ingress's drain. Given a {@link Responder}, the fake answers each
 * complete request through its stream.
 *
 * <p>What the test sends with {@link #send} and {@link #sendRaw} goes past the core, as it is (protocol
 * violations included), in the order sent. Before the core sees a message, a recording tap decodes
 * it and records the frame (DATA copied to unpooled heap buffers), so the test reads every frame the
 * ingress sent, pings and pongs included. The fake sends no heartbeat pings of its own, as before.
 */
public final class FakeAgent implements AutoCloseable, ConnectionSide {

    /** Answers one request (called on the event loop once the whole request body arrived). */
    @FunctionalInterface
    public interface Responder {
        void respond(FakeAgent agent, Frame.Request request, byte[] body);
    }

    /**
     * Takes a stream as its REQUEST arrives, before any of its body: a TCP CONNECT's body ends only with
     * the client's FIN (called on the event loop; the stream is accepted already).
     */
    @FunctionalInterface
    public interface StreamTaker {
        void take(TunnelStream stream, Frame.Request request);
    }

    private static final FrameCodec CODEC = new FrameCodec(new ProtocolLimits(16 * 1024 * 1024, 200, 64 * 1024, 1024,
            16 * 1024));

    /** The fake's own heartbeat never fires within a test: a test reads frames in order. */
    private static final Duration NO_HEARTBEAT = Duration.ofDays(1);

    private static final SessionLimits LIMITS = new SessionLimits(3, 64L * 1024 * 1024, Duration.ofSeconds(5));

    // filled on the event loop: a LinkedBlockingQueue takes a lock to wake a waiting test thread, which
    // under contention parks, BlockHound fails the event loop, and the connection drops (seen as 1006
    // in the fuzz test under load); LinkedTransferQueue hands over without a lock
    private final BlockingQueue<Frame> received = new LinkedTransferQueue<>();
    private final List<Frame.Request> requests = new CopyOnWriteArrayList<>();
    private final Map<Integer, TunnelStream> streams = new ConcurrentHashMap<>();
    private final Sinks.Many<WebSocketFrame> outbound = Sinks.many().unicast().onBackpressureBuffer();
    private final CompletableFuture<Integer> closeStatus = new CompletableFuture<>();
    private final CompletableFuture<Void> connected = new CompletableFuture<>();
    private final AtomicLong dataBytes = new AtomicLong();
    private volatile byte[] lastData = new byte[0];
    private volatile Responder responder;
    private volatile StreamTaker taker;
    private volatile boolean answerPings = true;
    private volatile Channel channel;
    private volatile TunnelConnection tunnel;
    private Disposable client;
    private volatile String nonce = "";

    private FakeAgent() {}

    /** The connection nonce the ingress sent in the handshake ("" if none): what a proof must sign. */
    public String nonce() {
        return nonce;
    }

    /** Connects without sending anything. */
    public static FakeAgent connect(int port, String path) {
        return connect(port, path, List.of());
    }

    /**
     * Connects with {@code X-Forwarded-For} header lines in the handshake (as if through a proxy);
     * a refused handshake throws, with the status in the message.
     */
    public static FakeAgent connect(int port, String path, List<String> forwardedFor) {
        FakeAgent agent = new FakeAgent();
        agent.client = HttpClient.create()
                .headers(h -> forwardedFor.forEach(value -> h.add("X-Forwarded-For", value)))
                .websocket(WebsocketClientSpec.builder().maxFramePayloadLength(32 * 1024 * 1024).build())
                .uri("ws://127.0.0.1:" + port + path)
                .handle(agent::handle)
                .subscribe(v -> {}, error -> {
                    agent.closeStatus.completeExceptionally(error);
                    agent.connected.completeExceptionally(error);
                });
        agent.connected.orTimeout(10, TimeUnit.SECONDS).join();
        return agent;
    }

    /** Says hello (protocol range of this build, no proof, no attributes). */
    public void sayHello(String agentId, String token, String... hosts) {
        List<RouteClaim> routes = new ArrayList<>();
        for (String host : hosts) {
            routes.add(RouteClaim.host(host));
        }
        send(new Frame.Hello(ProtocolVersion.MIN, ProtocolVersion.MAX, agentId, token, "", routes, Map.of()));
    }

    /** Connects and says hello; does not wait for the answer. */
    public static FakeAgent hello(int port, String path, String agentId, String token, String... hosts) {
        FakeAgent agent = connect(port, path);
        agent.sayHello(agentId, token, hosts);
        return agent;
    }

    /** Connects, says hello and waits for Accept. */
    public static FakeAgent registered(int port, String agentId, String token, Responder responder, String... hosts) {
        FakeAgent agent = hello(port, "/tunnel", agentId, token, hosts);
        agent.responder = responder;
        Frame first = agent.next(Duration.ofSeconds(10));
        if (!(first instanceof Frame.Accept)) {
            throw new AssertionError("expected Accept, got " + first);
        }
        return agent;
    }

    private Mono<Void> handle(WebsocketInbound in, WebsocketOutbound out) {
        nonce = in.headers().get(ConnectionNonce.HEADER, "");
        in.receiveCloseStatus().subscribe(status -> closeStatus.complete(status.code()));
        in.withConnection(c -> channel = c.channel());
        Channel current = channel;
        TunnelConnection connection = new TunnelConnection(Role.ACCEPTOR, "fake-agent", CODEC, out.alloc(),
                current.eventLoop(), LIMITS, this, current::close);
        tunnel = connection;
        connected.complete(null);
        Mono<Void> receive = in.aggregateFrames(32 * 1024 * 1024)
                .receiveFrames()
                .doOnNext(this::onMessage)
                .then();
        // the test's frames and the core's (pongs, credit, answers) share the socket; the test's go
        // out as sent, and frames still queued when the connection ends are released, not leaked
        Flux<WebSocketFrame> frames = Flux.merge(
                outbound.asFlux(), connection.frames().frames().map(BinaryWebSocketFrame::new));
        Mono<Void> send = out.sendObject(frames.doOnDiscard(WebSocketFrame.class, ReferenceCounted::release))
                .then()
                .then(Mono.defer(() -> connection.isClosing()
                        ? out.sendClose(connection.closeCode().code(), connection.closeReason())
                        : Mono.empty()));
        return Mono.when(send, receive).doFinally(s -> {
            closeStatus.complete(-1);
            connection.disconnected();
        });
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
            tunnel.receive(message); // the core closes with the error's code
            return;
        }
        if (frame instanceof Frame.Data data) {
            byte[] bytes = ByteBufUtil.getBytes(data.content());
            data.content().release();
            frame = new Frame.Data(data.streamId(), Unpooled.wrappedBuffer(bytes), data.endStream());
            dataBytes.addAndGet(bytes.length);
            lastData = bytes;
        }
        received.add(frame);
        if (frame instanceof Frame.Ping && !answerPings) {
            return; // left unanswered: the core never sees it
        }
        tunnel.receive(message);
    }

    // ------------------------------------------------------------------ ConnectionSide (event loop)

    @Override
    public void onHandshake(Frame frame) {
        if (frame instanceof Frame.Accept accept) {
            int chunk = Math.min(64 * 1024, accept.maxFramePayload() - FrameCodec.HEADER_BYTES);
            tunnel.open(NO_HEARTBEAT,
                    new StreamSettings(accept.initialStreamWindow(), chunk, WindowGrowth.NONE, new LongAdder()),
                    accept.maxConcurrentStreams());
        } else if (frame instanceof Frame.Ping ping) {
            tunnel.answerPing(ping.payload());
        } else if (frame instanceof Frame.Data data) {
            data.content().release();
        }
        // a Reject and anything else: recorded by the tap, for the test to judge
    }

    /** Every stream is taken; with a responder, its request is answered once its body is complete. */
    @Override
    public void onRequest(TunnelStream stream, Frame.Request request) {
        int id = stream.id();
        streams.put(id, stream);
        stream.accept(end -> {
            streams.remove(id, stream);
            stream.releaseBodies();
        });
        StreamTaker takes = taker;
        if (takes != null) {
            requests.add(request);
            takes.take(stream, request);
            return;
        }
        Responder current = responder;
        if (current == null) {
            return; // the test reads the request and its body from the recorded frames
        }
        requests.add(request);
        if (stream.inbound() == null) {
            current.respond(this, request, new byte[0]);
            return;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Flux.from(stream.inbound())
                .doOnNext(chunk -> {
                    body.writeBytes(ByteBufUtil.getBytes(chunk));
                    chunk.release();
                })
                .then()
                .subscribe(null, e -> {}, () -> current.respond(this, request, body.toByteArray()));
    }

    /** ROUTE_HEALTH, a second ACCEPT and the like: recorded by the tap, for the test to judge. */
    @Override
    public void onControl(Frame frame) {}

    @Override
    public void onClose(CloseCode code, String reason) {
        outbound.tryEmitComplete(); // the close frame follows what the test queued
    }

    public void respondWith(Responder responder) {
        this.responder = responder;
    }

    /** From now on each stream goes to {@code taker} as its REQUEST arrives, instead of a responder. */
    public void takeStreams(StreamTaker taker) {
        this.taker = taker;
    }

    /** Stops reading the socket altogether: a peer that never reads, whose buffers then fill up. */
    public void stopReading() {
        Channel current = channel;
        if (current != null) {
            current.eventLoop().execute(() -> current.config().setAutoRead(false));
        }
    }

    /** Drops the connection with a TCP reset (SO_LINGER 0), as a crashed host or a middlebox would. */
    public void reset() {
        Channel current = channel;
        if (current != null) {
            current.eventLoop().execute(() -> {
                current.config().setOption(ChannelOption.SO_LINGER, 0);
                current.close();
            });
        }
    }

    /** Whether pings reach the core, which answers them; off, a ping stays unanswered (still recorded). */
    public void answerPings(boolean answer) {
        this.answerPings = answer;
    }

    /** Encodes and sends a frame as it is, past the core (DATA content is taken over). */
    public void send(Frame frame) {
        sendRaw(new BinaryWebSocketFrame(CODEC.encode(frame, ByteBufAllocator.DEFAULT)));
    }

    public void sendRaw(WebSocketFrame frame) {
        Sinks.EmitResult result = outbound.tryEmitNext(frame);
        if (result.isFailure()) {
            frame.release();
        }
    }

    /**
     * Sends a complete response with a body that fits the initial window: through the core's stream
     * while it is open (which then ends once the request is complete), else as it is.
     */
    public void respond(int streamId, int status, List<Header> headers, byte[] body) {
        TunnelStream stream = streams.get(streamId);
        if (stream != null && !stream.isEnded()) {
            stream.sendHeaders(new Frame.Response(streamId, status, headers, body.length == 0));
            if (body.length > 0) {
                stream.sink().send(new Frame.Data(streamId, Unpooled.wrappedBuffer(body), true));
            }
            if (stream.remoteEnded()) {
                stream.complete();
            }
            return;
        }
        if (body.length == 0) {
            send(new Frame.Response(streamId, status, headers, true));
            return;
        }
        send(new Frame.Response(streamId, status, headers, false));
        send(new Frame.Data(streamId, Unpooled.wrappedBuffer(body), true));
    }

    /** The next frame received, or null after {@code timeout}. */
    public Frame next(Duration timeout) {
        try {
            return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits for the first received frame of the given type, skipping others. */
    public <T extends Frame> T await(Class<T> type, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Frame frame = next(Duration.ofMillis(100));
            if (type.isInstance(frame)) {
                return type.cast(frame);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within " + timeout);
    }

    /** The content of the last DATA frame received, on any stream. */
    public byte[] lastData() {
        return lastData;
    }

    /** Bytes of DATA received so far, on every stream. */
    public long receivedDataBytes() {
        return dataBytes.get();
    }

    public List<Frame.Request> requests() {
        return List.copyOf(requests);
    }

    /** The WebSocket close status code the server sent, or -1 if the connection just ended. */
    public int closeStatus(Duration timeout) {
        return closeStatus.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    public boolean isClosed() {
        return closeStatus.isDone();
    }

    @Override
    public void close() {
        outbound.tryEmitComplete();
        if (client != null) {
            client.dispose();
        }
    }

    /** Copies a ByteBuf's readable bytes (for assertions). */
    public static byte[] bytes(ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), bytes);
        return bytes;
    }
}
