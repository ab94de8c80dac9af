package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.agent.proxy.LocalExchangeException;
import io.edgetunnel.agent.proxy.LocalRequest;
import io.edgetunnel.agent.proxy.WebSocketRelay;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.session.StreamEnd;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.StreamSettings;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.InboundBody;
import io.edgetunnel.protocol.stream.OutboundBody;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * One tunneled request, the agent's handler of a {@link TunnelStream}: the request body comes in
 * through the stream's {@link InboundBody}, the local exchange runs on the {@link LocalAppForwarder},
 * and the response goes back as a Response frame and DATA through an {@link OutboundBody}. Safe to
 * drive from the tunnel's event loop and the local client's threads at once; the stream ends once,
 * and {@link #onEnd} releases what the exchange holds.
 */
final class ProxyStream implements StreamHandler {

    private static final Logger log = LoggerFactory.getLogger(ProxyStream.class);

    /**
     * How long a WebSocket stream reset by the ingress right after it relayed the client's close keeps
     * the local connection, so that the close frame still reaches the app (spec section 19.3).
     */
    static final Duration WEBSOCKET_CLOSE_GRACE = Duration.ofSeconds(10);

    private final TunnelStream stream;
    private final int id;
    private final Route route;
    private final Frame.Request request;
    /** The ingress's X-Request-Id, so agent log lines join the ingress access log line. */
    private final String requestId;
    private final StreamSettings settings;
    private final InboundBody requestBody;

    private final AtomicBoolean released = new AtomicBoolean();
    private volatile Disposable exchange;
    /** A close record from the ingress was handed to the local WebSocket. */
    private volatile boolean closeRelayed;

    ProxyStream(TunnelStream stream, Frame.Request request, Route route) {
        this.stream = stream;
        this.id = request.streamId();
        this.request = request;
        this.requestId = requestId(request);
        this.route = route;
        this.settings = stream.settings();
        // the local client stopping to read the body (it answered early, or failed) needs no word to
        // the ingress: the response decides how the stream ends
        this.requestBody = stream.inbound();
    }

    int id() {
        return id;
    }

    void start(LocalAppForwarder forwarder) {
        LocalRequest local =
                new LocalRequest(route, request.method(), request.target(), request.headers(), requestBody);
        Mono<Void> work = isWebSocketUpgrade(request)
                ? forwarder.websockets().forward(local, new Upgrade())
                : forwarder.forward(local, this::relay);
        Disposable subscription = work.subscribe(null, this::failed, this::completed);
        exchange = subscription;
        if (released.get()) {
            // ended while subscribing
            subscription.dispose();
        }
    }

    @Override
    public void onEnd(StreamEnd end) {
        if (end instanceof StreamEnd.PeerReset reset) {
            log.debug("request_id={} stream {} reset by ingress: {} {}", requestId, id, reset.code(), reset.message());
            if (closeRelayed) {
                // the client closed and the ingress is done; the local close handshake ends the exchange
                Mono.delay(WEBSOCKET_CLOSE_GRACE).subscribe(tick -> release());
                return;
            }
        }
        release();
    }

    private void reset(ResetCode code, String message) {
        stream.reset(code, message);
    }

    private Mono<Void> relay(int status, List<Header> headers, boolean emptyBody, Flux<ByteBuf> body,
            Supplier<List<Header>> trailers) {
        if (stream.isEnded()) {
            // cancelled meanwhile: leave the body unread, Reactor Netty drops the connection
            return Mono.empty();
        }
        if (emptyBody) {
            stream.sendHeaders(new Frame.Response(id, status, headers, true));
            // count(), not then(): then() also hands every element to the context's discard hook,
            // and Reactor Netty's hook would release the already released buffer a second time
            return body.doOnNext(ByteBuf::release).count().then();
        }
        stream.sendHeaders(new Frame.Response(id, status, headers, false));
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
            OutboundBody out = stream.newBody(listener, trailers);
            done.onCancel(out::cancel);
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
            stream.sendHeaders(new Frame.Response(id, status, headers, true));
        }

        @Override
        public Mono<Void> accepted(String subprotocol, List<Header> headers, WebsocketInbound in, WebsocketOutbound out) {
            if (stream.isEnded()) {
                return Mono.empty();
            }
            List<Header> answer = new ArrayList<>(headers);
            if (subprotocol != null && !subprotocol.isEmpty()) {
                answer.add(new Header("Sec-WebSocket-Protocol", subprotocol));
            }
            stream.sendHeaders(new Frame.Response(id, 101, answer, false));
            Mono<Void> fromApp = Mono.create(done -> {
                OutboundBody body = stream.newRecordBody(new OutboundBody.Listener() {
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

    private void completed() {
        if (!stream.complete()) {
            release(); // ended before (a reset whose grace kept the exchange): nothing more to wait for
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
        release();
    }

    /** Stops the local exchange and frees both bodies; once. */
    private void release() {
        if (!released.compareAndSet(false, true)) {
            return;
        }
        Disposable current = exchange;
        if (current != null) {
            current.dispose();
        }
        stream.releaseBodies();
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
