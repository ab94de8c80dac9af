package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.agent.proxy.LocalExchangeException;
import io.edgetunnel.agent.proxy.LocalRequest;
import io.edgetunnel.agent.proxy.WebSocketRelay;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.stream.FrameSink;
import io.edgetunnel.protocol.stream.InboundBody;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.edgetunnel.protocol.websocket.WebSocketRecords;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCounted;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * One tunneled request: the request body comes in as DATA through an {@link InboundBody}, the local
 * exchange runs on the {@link LocalAppForwarder}, and the response goes back as a Response frame and
 * DATA through an {@link OutboundBody}. Safe to drive from the tunnel's event loop and the local
 * client's threads at once; every path ends in {@link #finish} exactly once.
 */
final class ProxyStream {

    private static final Logger log = LoggerFactory.getLogger(ProxyStream.class);

    /**
     * How long a WebSocket stream reset by the ingress right after it relayed the client's close keeps
     * the local connection, so that the close frame still reaches the app (spec section 19.3).
     */
    static final Duration WEBSOCKET_CLOSE_GRACE = Duration.ofSeconds(10);

    /**
     * Stream window and chunk size the tunnel was accepted with, and how far the windows of request
     * bodies may grow (shared by the tunnel's streams).
     */
    record Settings(int window, int maxChunk, WindowGrowth growth) {}

    private final int id;
    private final Route route;
    private final Frame.Request request;
    /** The ingress's X-Request-Id, so agent log lines join the ingress access log line. */
    private final String requestId;
    private final Settings settings;
    private final FrameSink sink;
    private final Consumer<ProxyStream> onFinished;
    private final InboundBody requestBody;

    private final AtomicBoolean finished = new AtomicBoolean();
    private final AtomicInteger pendingCredit = new AtomicInteger();
    private volatile OutboundBody responseBody;
    private volatile Disposable exchange;
    /** A close record from the ingress was handed to the local WebSocket. */
    private volatile boolean closeRelayed;

    ProxyStream(
            Frame.Request request,
            Route route,
            Settings settings,
            FrameSink sink,
            LongAdder bufferedBytes,
            Consumer<ProxyStream> onFinished) {
        this.id = request.streamId();
        this.request = request;
        this.requestId = requestId(request);
        this.route = route;
        this.settings = settings;
        this.sink = sink;
        this.onFinished = onFinished;
        this.requestBody = request.endStream()
                ? null
                : new InboundBody(
                        id,
                        settings.window(),
                        settings.growth(),
                        increment -> sendIfOpen(new Frame.WindowUpdate(id, increment)),
                        // the local client stopped reading the body (it answered early, or failed):
                        // the response decides how the stream ends, so nothing to tell the ingress here
                        () -> {},
                        bufferedBytes);
    }

    int id() {
        return id;
    }

    void start(LocalAppForwarder forwarder) {
        LocalRequest local =
                new LocalRequest(route, request.method(), request.target(), request.headers(), requestBody);
        // the one dispatch point: a TCP route's stream is a connection (spec section 20)
        Mono<Void> work = route.isTcp()
                ? forwarder.tcp().connect(local, this::relay)
                : isWebSocketUpgrade(request)
                ? forwarder.websockets().forward(local, new Upgrade())
                : forwarder.forward(local, this::relay);
        Disposable subscription = work.subscribe(null, this::failed, this::completed);
        exchange = subscription;
        if (finished.get()) {
            // cancelled while subscribing
            subscription.dispose();
        }
    }

    void onData(Frame.Data data) {
        if (finished.get()) {
            data.content().release();
            return;
        }
        if (requestBody == null || requestBody.isDone()) {
            data.content().release();
            reset(ResetCode.PROTOCOL_ERROR, "DATA after the request body ended");
            return;
        }
        // a flow-control violation throws ProtocolException: the tunnel closes, as the protocol says
        requestBody.onData(data.content(), data.endStream());
    }

    void onTrailers(Frame.Trailers trailers) {
        // Reactor Netty's client cannot send request trailers (rare; gRPC sends none): they end the body
        if (requestBody != null) {
            requestBody.complete();
        }
    }

    void onWindowUpdate(int increment) {
        OutboundBody body = responseBody;
        if (body != null) {
            body.addCredit(increment);
            return;
        }
        pendingCredit.addAndGet(increment);
        body = responseBody;
        if (body != null) {
            movePendingCredit(body);
        }
    }

    /** The ingress reset the stream (client gone, timeout): stop the local exchange. */
    void onReset(Frame.Reset reset) {
        log.debug("request_id={} stream {} reset by ingress: {} {}", requestId, id, reset.code(), reset.message());
        if (closeRelayed) {
            // the client closed and the ingress is done; the local close handshake ends the exchange
            Mono.delay(WEBSOCKET_CLOSE_GRACE).subscribe(tick -> cancel());
            return;
        }
        cancel();
    }

    /** Ends the stream without telling the ingress (it reset the stream, or the tunnel is gone). */
    void cancel() {
        if (finished.compareAndSet(false, true)) {
            release();
        }
    }

    private void reset(ResetCode code, String message) {
        if (finished.compareAndSet(false, true)) {
            sink.send(new Frame.Reset(id, code, message));
            release();
        }
    }

    private Mono<Void> relay(int status, List<Header> headers, boolean emptyBody, Flux<ByteBuf> body,
            Supplier<List<Header>> trailers) {
        if (finished.get()) {
            // cancelled meanwhile: leave the body unread, Reactor Netty drops the connection
            return Mono.empty();
        }
        if (emptyBody) {
            sink.send(new Frame.Response(id, status, headers, true));
            // count(), not then(): then() also hands every element to the context's discard hook,
            // and Reactor Netty's hook would release the already released buffer a second time
            return body.doOnNext(ByteBuf::release).count().then();
        }
        sink.send(new Frame.Response(id, status, headers, false));
        return Mono.create(done -> {
            OutboundBody.Listener listener = new OutboundBody.Listener() {
                @Override
                public void onComplete() {
                    done.success();
                }

                @Override
                public void onError(Throwable cause) {
                    done.error(cause);
                }
            };
            // response trailers (gRPC's status) end the stream as a Trailers frame
            OutboundBody out = new OutboundBody(id, settings.window(), settings.maxChunk(), sink, listener, trailers);
            done.onCancel(out::cancel);
            responseBody = out;
            movePendingCredit(out);
            body.subscribe(out);
        });
    }

    /** A GET with {@code Upgrade: websocket} whose request direction stays open for records. */
    static boolean isWebSocketUpgrade(Frame.Request request) {
        if (request.endStream() || !request.method().equals("GET")) {
            return false;
        }
        for (Header header : request.headers()) {
            if (header.name().equalsIgnoreCase("Upgrade") && header.value().trim().equalsIgnoreCase("websocket")) {
                return true;
            }
        }
        return false;
    }

    /** The local side of a WebSocket passthrough (spec section 19). */
    private final class Upgrade implements WebSocketRelay {

        private final AtomicReference<CloseWebSocketFrame> ingressClose = new AtomicReference<>();

        @Override
        public void refused(int status, List<Header> headers) {
            if (!finished.get()) {
                sink.send(new Frame.Response(id, status, headers, true));
            }
        }

        @Override
        public Mono<Void> accepted(String subprotocol, List<Header> headers, WebsocketInbound in, WebsocketOutbound out) {
            if (finished.get()) {
                return Mono.empty();
            }
            List<Header> answer = new ArrayList<>(headers);
            if (subprotocol != null && !subprotocol.isEmpty()) {
                answer.add(new Header("Sec-WebSocket-Protocol", subprotocol));
            }
            sink.send(new Frame.Response(id, 101, answer, false));
            Mono<Void> fromApp = Mono.create(done -> {
                OutboundBody body = OutboundBody.records(id, settings.window(), settings.maxChunk(), sink,
                        new OutboundBody.Listener() {
                            @Override
                            public void onComplete() {
                                done.success();
                            }

                            @Override
                            public void onError(Throwable cause) {
                                done.error(new LocalExchangeException(ResetCode.UPSTREAM_ERROR,
                                        "local app WebSocket lost: " + cause.getMessage(), cause));
                            }
                        });
                done.onCancel(body::cancel);
                responseBody = body;
                movePendingCredit(body);
                appRecords(in, out.alloc()).subscribe(body);
            });
            Mono<Void> toApp = out.sendObject(ingressFrames())
                    .then()
                    .then(Mono.defer(() -> {
                        CloseWebSocketFrame close = ingressClose.getAndSet(null);
                        if (close == null) {
                            return Mono.empty();
                        }
                        int code = close.statusCode();
                        String reason = close.reasonText();
                        close.release();
                        return code < 0 ? out.sendClose() : out.sendClose(code, reason);
                    }))
                    // the app's socket closed under us: the other direction tells how
                    .onErrorResume(e -> !(e instanceof LocalExchangeException), e -> Mono.empty());
            return Mono.when(fromApp, toApp).doFinally(signal -> {
                CloseWebSocketFrame close = ingressClose.getAndSet(null);
                if (close != null) {
                    close.release();
                }
            });
        }

        /** The app's frames as records, ended by its close record; a lost connection errors. */
        private Flux<ByteBuf> appRecords(WebsocketInbound in, ByteBufAllocator alloc) {
            int fragment = WebSocketRecords.fragmentSize(settings.maxChunk(), settings.window());
            Flux<ByteBuf> frames = in.receiveFrames()
                    .map(WebSocketFrame::retain)
                    .concatMap(frame -> WebSocketRecords.records(frame, fragment, alloc), 0)
                    .doOnDiscard(WebSocketFrame.class, ReferenceCounted::release);
            return WebSocketRecords.thenClose(frames, in.receiveCloseStatus(), alloc);
        }

        /** The client's records from the ingress as frames; its close record is kept to close last. */
        private Flux<WebSocketFrame> ingressFrames() {
            if (requestBody == null) {
                return Flux.empty();
            }
            return Flux.from(requestBody).handle((buf, out) -> {
                WebSocketFrame frame;
                try {
                    frame = WebSocketRecords.toFrame(buf);
                } catch (WebSocketRecords.InvalidRecordException e) {
                    reset(ResetCode.PROTOCOL_ERROR, e.getMessage());
                    out.error(new LocalExchangeException(ResetCode.PROTOCOL_ERROR, e.getMessage(), null));
                    return;
                }
                if (frame instanceof CloseWebSocketFrame close) {
                    closeRelayed = true;
                    CloseWebSocketFrame previous = ingressClose.getAndSet(close);
                    if (previous != null) {
                        previous.release();
                    }
                    return;
                }
                out.next(frame);
            });
        }
    }

    private void movePendingCredit(OutboundBody body) {
        int credit = pendingCredit.getAndSet(0);
        if (credit > 0) {
            body.addCredit(credit);
        }
    }

    private void completed() {
        if (finished.compareAndSet(false, true)) {
            release();
        }
    }

    private void failed(Throwable error) {
        if (error instanceof LocalExchangeException local) {
            log.warn("request_id={} stream {} {} {} for {}: {}",
                    requestId, id, request.method(), route.claim(), local.resetCode(), local.getMessage());
            reset(local.resetCode(), local.getMessage());
        } else {
            log.error("request_id={} stream {} {} {} failed", requestId, id, request.method(), route.claim(), error);
            reset(ResetCode.INTERNAL_ERROR, "agent error: " + error.getClass().getSimpleName());
        }
    }

    private void sendIfOpen(Frame frame) {
        if (!finished.get()) {
            sink.send(frame);
        }
    }

    private void release() {
        Disposable current = exchange;
        if (current != null) {
            current.dispose();
        }
        OutboundBody out = responseBody;
        if (out != null) {
            out.cancel();
        }
        if (requestBody != null) {
            requestBody.discard();
        }
        onFinished.accept(this);
    }

    private static String requestId(Frame.Request request) {
        for (Header header : request.headers()) {
            if (header.name().equalsIgnoreCase("X-Request-Id")) {
                return header.value();
            }
        }
        return "-";
    }
}
