package io.edgetunnel.agent.tcp;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalExchangeException;
import io.edgetunnel.agent.proxy.LocalRequest;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.session.StreamEnd;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One CONNECT stream of a TCP route (spec section 20), the agent's handler of a {@link TunnelStream}
 * for it, as {@code tunnel.ProxyStream} is for HTTP: the {@link LocalTcpConnector} connects the
 * route's target; once connected, RESPONSE 200 goes out and the target's bytes follow as DATA within
 * the ingress's window, while the stream's inbound body (the client's bytes) is written to the
 * target. Each direction's END_STREAM is its FIN, independently; the stream completes once both
 * ended. A failed connect or a lost target resets the stream; a reset from the ingress (or the tunnel
 * closing) resets the target connection with a TCP RST.
 */
public final class TcpStream implements StreamHandler {

    private static final Logger log = LoggerFactory.getLogger(TcpStream.class);

    private final TunnelStream stream;
    private final LocalRequest request;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile Disposable connection;

    private TcpStream(TunnelStream stream, LocalRequest request) {
        this.stream = stream;
        this.request = request;
    }

    /** Takes {@code stream}, a REQUEST admitted for the TCP route {@code route}, and connects its target. */
    public static void accept(TunnelStream stream, Frame.Request request, Route route, LocalTcpConnector connector) {
        TcpStream handler = new TcpStream(stream,
                new LocalRequest(route, request.method(), request.target(), request.headers(), stream.inbound()));
        stream.accept(handler);
        handler.start(connector);
    }

    private void start(LocalTcpConnector connector) {
        Disposable subscription = connector.connect(request, this::relay).subscribe(null, this::failed, this::completed);
        connection = subscription;
        if (released.get()) {
            // ended while subscribing
            subscription.dispose();
        }
    }

    /** Connected: the 200, then the target's bytes; completes when the target's FIN went out as END_STREAM. */
    private Mono<Void> relay(int status, List<Header> headers, boolean emptyBody, Flux<ByteBuf> body,
            Supplier<List<Header>> trailers) {
        if (stream.isEnded()) {
            return Mono.empty(); // reset meanwhile: the connector's cancel resets the target
        }
        stream.sendHeaders(new Frame.Response(stream.id(), status, headers, false));
        return Mono.create(done -> {
            OutboundBody out = stream.newBody(new OutboundBody.Listener() {
                @Override
                public void onComplete() {
                    done.success();
                }

                @Override
                public void onError(Throwable cause) {
                    done.error(cause);
                }
            }, trailers);
            done.onCancel(out::cancel);
            body.subscribe(out);
        });
    }

    @Override
    public void onEnd(StreamEnd end) {
        if (end instanceof StreamEnd.PeerReset reset) {
            log.debug("tcp stream {} of {} reset by ingress: {} {}",
                    stream.id(), request.route().claim(), reset.code(), reset.message());
        }
        release();
    }

    /** Both directions ended (the connector's Mono completes only then). */
    private void completed() {
        if (!stream.complete()) {
            release();
        }
    }

    private void failed(Throwable error) {
        if (error instanceof LocalExchangeException local) {
            log.warn("tcp stream {} of {}: {} {}", stream.id(), request.route().claim(), local.resetCode(),
                    local.getMessage());
            stream.reset(local.resetCode(), local.getMessage());
        } else {
            log.error("tcp stream {} of {} failed", stream.id(), request.route().claim(), error);
            stream.reset(ResetCode.INTERNAL_ERROR, "agent error: " + error.getClass().getSimpleName());
        }
        release();
    }

    /** Stops the connection (a TCP RST unless it completed) and frees both bodies; once. */
    private void release() {
        if (!released.compareAndSet(false, true)) {
            return;
        }
        Disposable current = connection;
        if (current != null) {
            current.dispose();
        }
        stream.releaseBodies();
    }
}
