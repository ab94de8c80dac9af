package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.config.HostPatterns;
import io.edgetunnel.ingress.config.ProxyProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.edgetunnel.protocol.websocket.WebSocketRecords;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCounted;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * Completes a public WebSocket upgrade the agent accepted (101) and then relays frames both ways as
 * WebSocket records on the stream (spec section 19): the client's frames become records within the
 * agent's window; the agent's records are written to the client, credit going back only as they
 * leave, so a slow reader stops the app instead of growing memory. The returned Mono completes when
 * the socket is over, so the access line is written once, then.
 */
final class WebSocketBridge {

    private static final Logger log = LoggerFactory.getLogger(WebSocketBridge.class);

    /** RFC 6455 registry: the server, acting as a gateway, got an invalid response upstream. */
    static final int BAD_GATEWAY = 1014;

    /** Per-hop headers of a 101 that the ingress's own handshake writes. */
    static final Set<String> HANDSHAKE_HEADERS = Set.of(
            "sec-websocket-protocol", "sec-websocket-accept", "sec-websocket-extensions", "content-length",
            "transfer-encoding");

    private final ProxyProperties.Websocket settings;
    private final HostPatterns compression;
    private final IngressMetrics metrics;
    private final OpenWebSockets open;

    WebSocketBridge(ProxyProperties.Websocket settings, IngressMetrics metrics, OpenWebSockets open) {
        this.settings = settings;
        this.compression = settings.compression();
        this.metrics = metrics;
        this.open = open;
    }

    /**
     * Upgrades the public connection with the agent's 101 and runs the socket until it closes.
     *
     * @param host the normalised host the request was routed by
     * @param offered subprotocols the client offered; the app's choice must be one of them
     */
    Mono<Void> upgrade(ServerWebExchange exchange, String host, ProxyStream stream, Frame.Response response,
            List<String> offered, AccessRecord access) {
        String selected = null;
        for (Header header : response.headers()) {
            if (header.name().equalsIgnoreCase(WebSocketUpgrade.SEC_WEBSOCKET_PROTOCOL)) {
                selected = header.value().trim();
            }
        }
        if (selected != null && !offered.contains(selected)) {
            stream.reset(ResetCode.CANCEL, "subprotocol not offered");
            return Mono.error(ProxyException.badGateway("the app chose WebSocket subprotocol " + selected
                    + " (expected: one the client offered)"));
        }
        ServerHttpResponse res = exchange.getResponse();
        Object nativeResponse = ServerHttpResponseDecorator.getNativeResponse(res);
        if (!(nativeResponse instanceof HttpServerResponse netty)) {
            stream.reset(ResetCode.CANCEL, "unsupported server");
            return Mono.error(new IllegalStateException("public server is not Reactor Netty"));
        }
        res.setStatusCode(HttpStatusCode.valueOf(101));
        HttpHeaders out = res.getHeaders();
        for (Header header : ForwardedHeaders.forResponse(response.headers())) {
            if (!HANDSHAKE_HEADERS.contains(header.name().toLowerCase(Locale.ROOT))) {
                out.add(header.name(), header.value());
            }
        }
        WebsocketServerSpec spec = publicSpec(settings, compression.matches(host), selected);
        Session session = new Session(stream, access);
        // commit first so WebFlux's before-commit actions (X-Request-Id) land in the 101's headers
        Mono<Void> handshake = res.setComplete().then(Mono.defer(() -> netty.sendWebsocket(session::run, spec)));
        return onOwnLoop(handshake, netty)
                .onErrorResume(error -> {
                    stream.reset(ResetCode.CANCEL, "websocket handshake failed");
                    return Mono.error(error);
                })
                .then(session.done.asMono());
    }

    /**
     * The client side of a public WebSocket: our limits, compression if the host opted in and the
     * client offers it, the app's subprotocol. A compressed frame may inflate to the frame limit and
     * no further: without that bound one small frame could expand to gigabytes (a decompression bomb).
     */
    static WebsocketServerSpec publicSpec(ProxyProperties.Websocket settings, boolean compress, String selectedProtocol) {
        int maxFrame = (int) settings.maxFrameBytes().toBytes();
        WebsocketServerSpec.Builder builder = WebsocketServerSpec.builder()
                .handlePing(true)
                .maxFramePayloadLength(maxFrame)
                .compress(compress)
                .maxDecompressionBufferSize(maxFrame);
        if (selectedProtocol != null && !selectedProtocol.isEmpty()) {
            builder.protocols(selectedProtocol);
        }
        return builder.build();
    }

    /**
     * Runs {@code handshake} on the public connection's event loop. The agent's 101 arrives on the
     * tunnel's loop; a handshake started there raced the client's first frame, which the public loop
     * could read before Reactor Netty had bound the WebSocket operations to the connection (the frame
     * was then lost and the socket stayed silent).
     */
    static Mono<Void> onOwnLoop(Mono<Void> handshake, HttpServerResponse netty) {
        if (!(netty instanceof Connection connection)) {
            return handshake;
        }
        EventLoop loop = connection.channel().eventLoop();
        return Mono.defer(() -> loop.inEventLoop() ? handshake : handshake.subscribeOn(Schedulers.fromExecutor(loop)));
    }

    /** One upgraded socket: both directions, and how it ended. */
    private final class Session {
        final ProxyStream stream;
        final AccessRecord access;
        final Sinks.Empty<Void> done = Sinks.empty();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicReference<CloseStatus> agentClose = new AtomicReference<>();
        /**
         * The agent side failed: the client's direction was cancelled with the stream, which tells its
         * listener nothing, so the session must not wait for that direction to end.
         */
        final Sinks.Empty<Void> agentSideFailed = Sinks.empty();

        Session(ProxyStream stream, AccessRecord access) {
            this.stream = stream;
            this.access = access;
        }

        Mono<Void> run(WebsocketInbound in, WebsocketOutbound out) {
            Mono<Void> fromClient = Mono.create(sink -> stream.sendRecords(
                    clientRecords(in, out.alloc()),
                    new OutboundBody.Listener() {
                        @Override
                        public void onComplete() {
                            sink.success();
                        }

                        @Override
                        public void onError(Throwable cause) {
                            // the client vanished without a close frame: its business, not an error of ours
                            log.debug("websocket stream {}: client lost: {}", stream.streamId(), cause.toString());
                            access.outcome = ProxyException.Outcome.CLIENT_ABORT;
                            sink.success();
                        }
                    }));
            Mono<Void> toClient = out.sendObject(agentFrames())
                    .then()
                    .then(Mono.defer(() -> {
                        CloseStatus close = agentClose.get();
                        if (close == null) {
                            return Mono.empty();
                        }
                        return close.code() < 0 ? out.sendClose() : out.sendClose(close.code(), close.reason());
                    }))
                    .onErrorResume(error -> onAgentSideError(error, out));
            Mono<Void> clientDirection = Mono.firstWithSignal(fromClient, agentSideFailed.asMono());
            return open.track(out, Mono.when(toClient, clientDirection)).doFinally(signal -> {
                Throwable failed = failure.get();
                if (failed == null) {
                    done.tryEmitEmpty();
                } else {
                    done.tryEmitError(failed);
                }
            });
        }

        /** The client's frames as records, ended by its close record; 1006 (no close frame) errors. */
        private Flux<ByteBuf> clientRecords(WebsocketInbound in, ByteBufAllocator alloc) {
            int fragment = stream.fragmentSize();
            Flux<ByteBuf> frames = in.receiveFrames()
                    .map(WebSocketFrame::retain)
                    .concatMap(frame -> {
                        int bytes = frame.content().readableBytes();
                        metrics.requestBytes(bytes);
                        access.requestBytes.addAndGet(bytes);
                        return WebSocketRecords.records(frame, fragment, alloc);
                    }, 0)
                    .doOnDiscard(WebSocketFrame.class, ReferenceCounted::release);
            return WebSocketRecords.thenClose(frames, in.receiveCloseStatus(), alloc);
        }

        /** The agent's records as frames; its close record is kept to close the client's socket last. */
        private Flux<WebSocketFrame> agentFrames() {
            return Flux.from(stream.body()).handle((buf, sink) -> {
                WebSocketFrame frame;
                try {
                    frame = WebSocketRecords.toFrame(buf);
                } catch (WebSocketRecords.InvalidRecordException e) {
                    stream.reset(ResetCode.PROTOCOL_ERROR, e.getMessage());
                    sink.error(new StreamFailure(StreamFailure.Kind.RESET, ResetCode.PROTOCOL_ERROR, e.getMessage()));
                    return;
                }
                if (frame instanceof CloseWebSocketFrame close) {
                    agentClose.set(new CloseStatus(close.statusCode(), close.reasonText()));
                    close.release();
                    return;
                }
                int bytes = frame.content().readableBytes();
                metrics.responseBytes(bytes);
                access.responseBytes.addAndGet(bytes);
                sink.next(frame);
            });
        }

        /** The agent reset the stream or the tunnel went: tell the client it was the gateway (1014). */
        private Mono<Void> onAgentSideError(Throwable error, WebsocketOutbound out) {
            if (error instanceof StreamFailure f && f.kind() != StreamFailure.Kind.CLIENT_ABORT) {
                failure.compareAndSet(null, f);
                access.outcome = ProxyException.Outcome.AGENT_ERROR;
                log.debug("websocket stream {} ended by the agent side: {}", stream.streamId(), f.getMessage());
                return out.sendClose(BAD_GATEWAY, "upstream failed")
                        .onErrorResume(e -> Mono.empty())
                        .doFinally(signal -> agentSideFailed.tryEmitEmpty());
            }
            // the client's connection is gone (it closed, or vanished): the other direction reports how
            return Mono.empty();
        }
    }

    /** A close to relay: {@code code} -1 for a close frame without status. */
    private record CloseStatus(int code, String reason) {}
}
