package io.edgetunnel.ingress.support;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RouteClaim;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A protocol-level agent for tests: a raw Reactor Netty WebSocket client speaking frames through the
 * shared codec. Records every frame it receives (DATA copied to unpooled heap buffers) and, when
 * given a {@link Responder}, answers each complete request, granting credit as it reads bodies.
 */
public final class FakeAgent implements AutoCloseable {

    /** Answers one request (called on the event loop once the whole request body arrived). */
    @FunctionalInterface
    public interface Responder {
        void respond(FakeAgent agent, Frame.Request request, byte[] body);
    }

    private static final FrameCodec CODEC = new FrameCodec(new ProtocolLimits(16 * 1024 * 1024, 200, 64 * 1024, 1024,
            16 * 1024));

    // filled on the event loop: a LinkedBlockingQueue takes a lock to wake a waiting test thread, which
    // under contention parks, BlockHound fails the event loop, and the connection drops (seen as 1006
    // in the fuzz test under load); LinkedTransferQueue hands over without a lock
    private final BlockingQueue<Frame> received = new LinkedTransferQueue<>();
    private final List<Frame.Request> requests = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<Integer, Frame.Request> pending = new ConcurrentHashMap<>();
    private final Map<Integer, ByteArrayOutputStream> bodies = new ConcurrentHashMap<>();
    private final Sinks.Many<WebSocketFrame> outbound = Sinks.many().unicast().onBackpressureBuffer();
    private final CompletableFuture<Integer> closeStatus = new CompletableFuture<>();
    private final CompletableFuture<Void> connected = new CompletableFuture<>();
    private final java.util.concurrent.atomic.AtomicLong dataBytes = new java.util.concurrent.atomic.AtomicLong();
    private volatile byte[] lastData = new byte[0];
    private volatile Responder responder;
    private volatile boolean answerPings = true;
    private volatile io.netty.channel.Channel channel;
    private Disposable connection;
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
        agent.connection = HttpClient.create()
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
        List<RouteClaim> routes = new ArrayList<>();
        for (String host : hosts) {
            routes.add(RouteClaim.host(host));
        }
        agent.send(new Frame.Hello(ProtocolVersion.MIN, ProtocolVersion.MAX, agentId, token, "", routes, Map.of()));
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
        nonce = in.headers().get(io.edgetunnel.protocol.ConnectionNonce.HEADER, "");
        in.receiveCloseStatus().subscribe(status -> closeStatus.complete(status.code()));
        in.withConnection(c -> channel = c.channel());
        connected.complete(null);
        Mono<Void> receive = in.aggregateFrames(32 * 1024 * 1024)
                .receiveFrames()
                .doOnNext(this::onMessage)
                .then();
        // frames still queued when the connection ends are released, not leaked
        return Mono.when(out.sendObject(outbound.asFlux()
                                .doOnDiscard(WebSocketFrame.class, io.netty.util.ReferenceCounted::release))
                        .then(), receive)
                .doFinally(s -> closeStatus.complete(-1));
    }

    private void onMessage(WebSocketFrame message) {
        if (!(message instanceof BinaryWebSocketFrame)) {
            return;
        }
        Frame frame = CODEC.decode(message.content());
        if (frame instanceof Frame.Data data) {
            byte[] bytes = new byte[data.content().readableBytes()];
            data.content().readBytes(bytes);
            data.content().release();
            frame = new Frame.Data(data.streamId(), Unpooled.wrappedBuffer(bytes), data.endStream());
            dataBytes.addAndGet(bytes.length);
            lastData = bytes;
        }
        received.add(frame);
        if (frame instanceof Frame.Ping ping && answerPings) {
            send(new Frame.Pong(ping.payload()));
        }
        Responder current = responder;
        if (current == null) {
            return;
        }
        if (frame instanceof Frame.Request request) {
            requests.add(request);
            if (request.endStream()) {
                current.respond(this, request, new byte[0]);
            } else {
                pending.put(request.streamId(), request);
                bodies.put(request.streamId(), new ByteArrayOutputStream());
            }
        } else if (frame instanceof Frame.Data data) {
            ByteArrayOutputStream body = bodies.get(data.streamId());
            if (body == null) {
                return;
            }
            int bytes = data.content().readableBytes();
            body.write(data.content().array(), data.content().arrayOffset() + data.content().readerIndex(), bytes);
            if (bytes > 0 && !data.endStream()) {
                send(new Frame.WindowUpdate(data.streamId(), bytes));
            }
            if (data.endStream()) {
                bodies.remove(data.streamId());
                current.respond(this, pending.remove(data.streamId()), body.toByteArray());
            }
        }
    }

    public void respondWith(Responder responder) {
        this.responder = responder;
    }

    /** Stops reading the socket altogether: a peer that never reads, whose buffers then fill up. */
    public void stopReading() {
        io.netty.channel.Channel current = channel;
        if (current != null) {
            current.eventLoop().execute(() -> current.config().setAutoRead(false));
        }
    }

    /** Drops the connection with a TCP reset (SO_LINGER 0), as a crashed host or a middlebox would. */
    public void reset() {
        io.netty.channel.Channel current = channel;
        if (current != null) {
            current.eventLoop().execute(() -> {
                current.config().setOption(io.netty.channel.ChannelOption.SO_LINGER, 0);
                current.close();
            });
        }
    }

    public void answerPings(boolean answer) {
        this.answerPings = answer;
    }

    /** Encodes and sends a frame (DATA content is taken over). */
    public void send(Frame frame) {
        sendRaw(new BinaryWebSocketFrame(CODEC.encode(frame, ByteBufAllocator.DEFAULT)));
    }

    public void sendRaw(WebSocketFrame frame) {
        Sinks.EmitResult result = outbound.tryEmitNext(frame);
        if (result.isFailure()) {
            frame.release();
        }
    }

    /** Sends a complete response with a body that fits the initial window. */
    public void respond(int streamId, int status, List<Header> headers, byte[] body) {
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
        if (connection != null) {
            connection.dispose();
        }
    }

    /** Copies a ByteBuf's readable bytes (for assertions). */
    public static byte[] bytes(ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), bytes);
        return bytes;
    }
}
