package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.cluster.HopSignature;
import io.edgetunnel.ingress.cluster.RemoteReplica;
import io.edgetunnel.ingress.config.ProxyProperties;
import io.edgetunnel.protocol.Header;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCounted;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A public WebSocket whose agent is held by another replica: the upgrade goes to that replica first,
 * and only once it answered 101 (its agent's app accepted) is the client's upgrade completed, with the
 * subprotocol the app chose; frames are then relayed both ways, each direction's backpressure reaching
 * the other, and a close on either side is passed on with its code. A refusal (any other status) is
 * relayed as the status and headers of the other replica's answer.
 */
final class ClusterWebSocketRelay {

    /** The other replica answered 503 with the no-holder marker. */
    static final class NoHolder extends RuntimeException {
        NoHolder() {
            super("no holder", null, false, false);
        }
    }

    private final HttpClient client;
    private final ProxyProperties.Websocket settings;
    private final io.edgetunnel.ingress.config.HostPatterns compression;
    private final OpenWebSockets open;

    ClusterWebSocketRelay(HttpClient client, ProxyProperties.Websocket settings, OpenWebSockets open) {
        this.client = client;
        this.settings = settings;
        this.compression = settings.compression();
        this.open = open;
    }

    Mono<Void> relay(PublicRequest request, RemoteReplica peer, String hop) {
        List<String> offered = WebSocketUpgrade.offeredProtocols(request.exchange().getRequest().getHeaders());
        WebsocketClientSpec.Builder spec = WebsocketClientSpec.builder()
                .handlePing(true)
                .maxFramePayloadLength((int) settings.maxFrameBytes().toBytes());
        if (!offered.isEmpty()) {
            spec.protocols(String.join(",", offered));
        }
        return client
                .headers(h -> {
                    for (Header header : request.headers()) {
                        String name = header.name().toLowerCase(Locale.ROOT);
                        // the client's own handshake fields: Reactor Netty writes this hop's
                        if (!name.startsWith("sec-websocket-") && !name.equals("upgrade") && !name.equals("connection")) {
                            h.add(header.name(), header.value());
                        }
                    }
                    h.set(HopSignature.HEADER, hop);
                })
                .websocket(spec.build())
                .uri(peer.baseUri() + request.target())
                .handle((in, out) -> upgradePublic(request, in, out))
                .then()
                .onErrorResume(WebSocketClientHandshakeException.class, refused -> refused(request, refused.response()));
    }

    private Mono<Void> refused(PublicRequest request, HttpResponse answer) {
        if (answer == null) {
            return Mono.error(ProxyException.badGateway("replica refused the WebSocket upgrade"));
        }
        if (answer.status().code() == 503 && answer.headers().contains(ProxyHandler.HOLDER_HEADER)) {
            return Mono.error(new NoHolder());
        }
        ServerHttpResponse response = request.exchange().getResponse();
        response.setStatusCode(HttpStatusCode.valueOf(answer.status().code()));
        for (Map.Entry<String, String> header : answer.headers()) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            // the body did not come along: say so instead of announcing one
            if (!name.equals("content-length") && !name.equals("transfer-encoding") && !name.equals("connection")) {
                response.getHeaders().add(header.getKey(), header.getValue());
            }
        }
        return response.setComplete();
    }

    private Mono<Void> upgradePublic(PublicRequest request, WebsocketInbound fromPeer, WebsocketOutbound toPeer) {
        ServerHttpResponse response = request.exchange().getResponse();
        HttpServerResponse netty = ExchangeSupport.nativeResponse(response);
        if (netty == null) {
            return Mono.error(new IllegalStateException("public server is not Reactor Netty"));
        }
        String selected = toPeer.selectedSubprotocol();
        response.setStatusCode(HttpStatusCode.valueOf(101));
        for (Map.Entry<String, String> header : fromPeer.headers()) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!WebSocketBridge.HANDSHAKE_HEADERS.contains(name) && !name.equals("upgrade") && !name.equals("connection")) {
                response.getHeaders().add(header.getKey(), header.getValue());
            }
        }
        WebsocketServerSpec spec = WebSocketBridge.publicSpec(settings, compression.matches(request.host()), selected);
        // sendWebsocket completes with the handshake; the socket lives until both directions are done,
        // and so must this hop's connection to the other replica (ending this Mono closes it)
        Sinks.Empty<Void> done = Sinks.empty();
        Mono<Void> handshake = response.setComplete().then(Mono.defer(() -> netty.sendWebsocket(
                (fromClient, toClient) -> open.track(toClient, splice(fromClient, toClient, fromPeer, toPeer))
                        .doFinally(signal -> done.tryEmitEmpty()),
                spec)));
        return WebSocketBridge.onOwnLoop(handshake, netty)
                .doOnError(error -> done.tryEmitEmpty())
                .then(done.asMono());
    }

    /**
     * Both directions, and each side's close passed to the other as it arrives (Reactor Netty answers a
     * close frame itself and reports its status; it is not among the frames). A peer that vanished
     * without a close (1006) becomes 1014 for the client, as for a lost agent.
     */
    private static Mono<Void> splice(WebsocketInbound fromClient, WebsocketOutbound toClient,
            WebsocketInbound fromPeer, WebsocketOutbound toPeer) {
        Mono<Void> up = toPeer.sendObject(fromClient.receiveFrames().map(WebSocketFrame::retain)
                        .doOnDiscard(WebSocketFrame.class, ReferenceCounted::release))
                .then()
                .onErrorResume(e -> Mono.empty());
        Mono<Void> down = toClient.sendObject(fromPeer.receiveFrames().map(WebSocketFrame::retain)
                        .doOnDiscard(WebSocketFrame.class, ReferenceCounted::release))
                .then()
                .onErrorResume(e -> Mono.empty());
        Mono<Void> clientClosed = fromClient.receiveCloseStatus()
                .flatMap(status -> close(toPeer, status.code(), status.reasonText()));
        Mono<Void> peerClosed = fromPeer.receiveCloseStatus()
                .flatMap(status -> status.code() == WebSocketCloseStatus.ABNORMAL_CLOSURE.code()
                        ? close(toClient, WebSocketBridge.BAD_GATEWAY, "upstream failed")
                        : close(toClient, status.code(), status.reasonText()));
        return Mono.when(up, down, clientClosed, peerClosed);
    }

    /** Sends a close unless the socket is already closing; 1005 (none given) goes on as a close without status. */
    private static Mono<Void> close(WebsocketOutbound out, int code, String reason) {
        if (out instanceof Connection connection && !connection.channel().isActive()) {
            return Mono.empty();
        }
        Mono<Void> close = code == WebSocketCloseStatus.EMPTY.code() || code < 1000
                ? out.sendClose()
                : out.sendClose(code, reason);
        return close.onErrorResume(e -> Mono.empty());
    }
}
