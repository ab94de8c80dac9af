package io.edgetunnel.agent.proxy;

import io.edgetunnel.protocol.Header;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/** Where the outcome of a local WebSocket handshake goes: the tunnel stream that asked for it. */
public interface WebSocketRelay {

    /**
     * The local app accepted the upgrade.
     *
     * @param subprotocol the subprotocol it chose, or null
     * @param headers its other end-to-end 101 headers
     * @return runs the socket; completes when it is over, cancelling it drops the local connection
     */
    Mono<Void> accepted(String subprotocol, List<Header> headers, WebsocketInbound in, WebsocketOutbound out);

    /** The local app refused the upgrade with {@code status} (its body is not available). */
    void refused(int status, List<Header> headers);
}
