package io.edgetunnel.e2e.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;

/**
 * A real local app that speaks WebSocket (Reactor Netty server, random loopback port): {@code /echo}
 * sends every frame back as it came (fragments stay fragments; pings are answered by the server
 * itself), {@code /close} closes at once with 4001 "bye", {@code /chat} accepts only the {@code
 * chat.v2} subprotocol, {@code /forbidden} refuses the upgrade with 403, {@code /flood} sends 64 KiB
 * binary frames as fast as the connection takes them. Close statuses it received
 * from clients are kept in {@link #receivedCloses}.
 */
public final class WebSocketApp implements AutoCloseable {

    public static final int MAX_FRAME = 16 * 1024 * 1024;

    private final DisposableServer server;
    public final Queue<WebSocketCloseStatus> receivedCloses = new ConcurrentLinkedQueue<>();
    public final Queue<String> upgradeHosts = new ConcurrentLinkedQueue<>();
    /** Every data frame {@code /echo} received, as {@code <type>:<fin>}, e.g. {@code text:false}. */
    public final Queue<String> receivedFrames = new ConcurrentLinkedQueue<>();
    /** Bytes {@code /flood} handed to its connection so far. */
    public final AtomicLong floodBytes = new AtomicLong();

    public WebSocketApp() {
        WebsocketServerSpec plain = WebsocketServerSpec.builder().maxFramePayloadLength(MAX_FRAME).build();
        WebsocketServerSpec chat =
                WebsocketServerSpec.builder().protocols("chat.v2").maxFramePayloadLength(MAX_FRAME).build();
        this.server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .route(routes -> routes
                        .get("/echo", (req, res) -> {
                            upgradeHosts.add(String.valueOf(req.requestHeaders().get("Host")));
                            return res.header("X-App", "echo").sendWebsocket((in, out) -> {
                                in.receiveCloseStatus().subscribe(receivedCloses::add);
                                return out.sendObject(in.receiveFrames()
                                        .doOnNext(frame -> receivedFrames.add(describe(frame)))
                                        .map(WebSocketFrame::retain));
                            }, plain);
                        })
                        .get("/close", (req, res) -> res.sendWebsocket(
                                (in, out) -> out.sendClose(4001, "bye").then(in.receive().count().then()), plain))
                        .get("/chat", (req, res) -> res.sendWebsocket(
                                (in, out) -> out.sendString(Mono.just("protocol=" + in.selectedSubprotocol()))
                                        .then().then(Mono.never()), chat))
                        .get("/flood", (req, res) -> res.sendWebsocket((in, out) -> {
                            ByteBuf chunk = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[64 * 1024]));
                            return out.sendObject(Flux.range(0, 4096)
                                    .map(i -> new BinaryWebSocketFrame(chunk.duplicate()))
                                    .doOnNext(frame -> floodBytes.addAndGet(frame.content().readableBytes())));
                        }, plain))
                        .get("/forbidden", (req, res) -> res.status(HttpResponseStatus.FORBIDDEN)
                                .header("X-Reason", "no-ws-here")
                                .sendString(Mono.just("forbidden"))
                                .then()))
                .bindNow();
    }

    private static String describe(WebSocketFrame frame) {
        String type = frame.getClass().getSimpleName().replace("WebSocketFrame", "").toLowerCase(java.util.Locale.ROOT);
        return type + ":" + frame.isFinalFragment();
    }

    public String url() {
        return "http://127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
