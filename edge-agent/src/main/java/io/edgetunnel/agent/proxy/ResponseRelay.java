package io.edgetunnel.agent.proxy;

import io.edgetunnel.protocol.Header;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Where a local response goes: the tunnel stream that asked for it. */
@FunctionalInterface
public interface ResponseRelay {

    /**
     * The local app answered with status and headers (hop-by-hop headers already removed).
     *
     * @param emptyBody true when the response is known to carry no body (Content-Length 0, 204, 304,
     *     HEAD), so the relay can end the stream with the headers
     * @param body the body; each emitted buffer is owned by the subscriber, which must release it.
     *     It must be subscribed (even when {@code emptyBody}) so the local connection is released
     * @param trailers the response's trailer fields (hop-by-hop ones removed), known once {@code body}
     *     completed; empty when the app sent none
     * @return completes when the whole body has been relayed; cancelling it stops the local exchange
     */
    Mono<Void> relay(int status, List<Header> headers, boolean emptyBody, Flux<ByteBuf> body,
            Supplier<List<Header>> trailers);
}
