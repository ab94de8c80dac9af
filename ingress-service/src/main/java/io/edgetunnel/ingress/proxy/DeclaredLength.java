package io.edgetunnel.ingress.proxy;

import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Holds an agent's response body to the {@code Content-Length} it declared. The public connection
 * is usually a keep-alive connection the ALB shares between clients: bytes past the declared length
 * would be read as the start of the next response (one client's data in another's answer, or a
 * forged response), and a body that ends short would swallow the next response's bytes. So a body
 * that runs over is cut before the extra byte is written and the stream reset; one that ends short
 * fails; either way the response errors and the connection is aborted, never reused.
 */
final class DeclaredLength {

    /** No {@code Content-Length}: the body is framed by the public connection (chunked or HTTP/2). */
    static final long NONE = -1;

    private DeclaredLength() {}

    /**
     * The declared length, {@link #NONE} when absent.
     *
     * @throws ProxyException (502) for a malformed value or several differing ones
     */
    static long of(Iterable<Header> headers) {
        long declared = NONE;
        for (Header header : headers) {
            if (!header.name().equalsIgnoreCase("Content-Length")) {
                continue;
            }
            for (String token : header.value().split(",")) {
                long value = parse(token.trim());
                if (declared != NONE && declared != value) {
                    throw ProxyException.badGateway("the app sent differing Content-Length values");
                }
                declared = value;
            }
        }
        return declared;
    }

    private static long parse(String value) {
        if (value.isEmpty() || value.length() > 18) {
            throw ProxyException.badGateway("the app sent an invalid Content-Length (expected: digits)");
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                throw ProxyException.badGateway("the app sent an invalid Content-Length (expected: digits)");
            }
        }
        return Long.parseLong(value);
    }

    /** {@code body}, failing with a reset as soon as it runs past {@code declared}, or when it ends short. */
    static Flux<ByteBuf> enforce(Flux<ByteBuf> body, long declared, ProxyStream stream) {
        if (declared == NONE) {
            return body;
        }
        AtomicLong seen = new AtomicLong();
        return body.<ByteBuf>handle((buf, sink) -> {
                    if (seen.addAndGet(buf.readableBytes()) > declared) {
                        buf.release();
                        stream.reset(ResetCode.PROTOCOL_ERROR, "body longer than its Content-Length");
                        sink.error(mismatch("longer than", declared));
                        return;
                    }
                    sink.next(buf);
                })
                .concatWith(Mono.defer(() -> seen.get() < declared
                        ? Mono.error(mismatch("shorter than", declared))
                        : Mono.empty()))
                .doOnDiscard(ByteBuf.class, ReferenceCounted::release);
    }

    static StreamFailure mismatch(String how, long declared) {
        return new StreamFailure(StreamFailure.Kind.RESET, ResetCode.PROTOCOL_ERROR,
                "the app's body is " + how + " its Content-Length: " + declared);
    }
}
