package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.tunnel.StreamListener;
import io.edgetunnel.ingress.tunnel.TunnelSession;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.stream.InboundBody;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One public request on one tunnel stream: sends the request (headers, then the body through an
 * {@link OutboundBody}), exposes the agent's response headers as a Mono and its body as an
 * {@link InboundBody}, and ends the stream exactly once whichever side finishes it.
 */
final class ProxyStream implements StreamListener {

    private final TunnelSession tunnel;
    private final IngressMetrics metrics;
    private final Sinks.One<Frame.Response> response = Sinks.one();
    private final AtomicBoolean finished = new AtomicBoolean();

    private int streamId;
    private InboundBody body;
    private volatile OutboundBody requestBody;
    private volatile boolean requestBodyDone;
    private volatile boolean dataSent;

    private ProxyStream(TunnelSession tunnel, IngressMetrics metrics) {
        this.tunnel = tunnel;
        this.metrics = metrics;
    }

    /** Opens a stream on {@code tunnel}, or returns null when it takes no new stream now. */
    static ProxyStream open(TunnelSession tunnel, IngressMetrics metrics) {
        ProxyStream stream = new ProxyStream(tunnel, metrics);
        // nothing arrives for the stream before its Request goes out, so initialising after open is safe
        int id = tunnel.openStream(stream);
        if (id < 0) {
            return null;
        }
        stream.streamId = id;
        stream.body = new InboundBody(
                id,
                tunnel.initialStreamWindow(),
                increment -> tunnel.send(new Frame.WindowUpdate(id, increment)),
                () -> stream.cancel("client went away"),
                metrics.bufferedBytes());
        return stream;
    }

    TunnelSession tunnel() {
        return tunnel;
    }

    int streamId() {
        return streamId;
    }

    /** The response headers; errors with {@link StreamFailure} when the stream ends before them. */
    Mono<Frame.Response> response() {
        return response.asMono();
    }

    /** The response body; subscribe once, or {@link #cancel} / let the stream fail to free it. */
    InboundBody body() {
        return body;
    }

    /** Whether any request body bytes went to the agent (then the request must not be retried). */
    boolean dataSent() {
        return dataSent;
    }

    /**
     * Sends the Request frame; with a {@code bodySource}, streams it within the agent's window.
     */
    void send(Frame.Request request, Flux<ByteBuf> bodySource) {
        if (bodySource == null) {
            requestBodyDone = true;
            tunnel.send(request);
            return;
        }
        OutboundBody outbound = new OutboundBody(
                streamId,
                tunnel.initialStreamWindow(),
                tunnel.maxDataPayload(),
                frame -> {
                    dataSent = true;
                    tunnel.send(frame);
                },
                new OutboundBody.Listener() {
                    @Override
                    public void onComplete() {
                        requestBodyDone = true;
                    }

                    @Override
                    public void onError(Throwable cause) {
                        requestBodyDone = true;
                        StreamFailure failure = cause instanceof StreamFailure f ? f
                                : new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, "request body failed: " + cause);
                        abort(ResetCode.CANCEL, failure);
                    }
                });
        requestBody = outbound;
        tunnel.send(request);
        bodySource.subscribe(outbound);
    }

    /** Our side gives up on the stream (timeout, client gone): the agent is told to cancel. */
    void cancel(String why) {
        abort(ResetCode.CANCEL, new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, why));
    }

    private void abort(ResetCode code, StreamFailure failure) {
        if (finished.compareAndSet(false, true)) {
            tunnel.closeStream(streamId);
            tunnel.send(new Frame.Reset(streamId, code, failure.getMessage()));
            fail(failure);
        }
    }

    private void fail(StreamFailure failure) {
        OutboundBody outbound = requestBody;
        if (outbound != null) {
            outbound.cancel();
        }
        response.tryEmitError(failure);
        body.fail(failure);
    }

    /** The response ended normally. */
    private void complete() {
        if (finished.compareAndSet(false, true)) {
            tunnel.closeStream(streamId);
            if (!requestBodyDone) {
                // the agent answered before reading the whole body: stop sending it
                tunnel.send(new Frame.Reset(streamId, ResetCode.CANCEL, "response complete"));
                OutboundBody outbound = requestBody;
                if (outbound != null) {
                    outbound.cancel();
                }
            }
        }
    }

    // ------------------------------------------------------------------ StreamListener

    @Override
    public void onResponse(Frame.Response frame) {
        if (response.tryEmitValue(frame).isFailure()) {
            return; // a second Response on the stream: ignore it
        }
        if (frame.endStream()) {
            body.complete();
            complete();
        }
    }

    @Override
    public void onData(Frame.Data data) {
        body.onData(data.content(), data.endStream());
        if (data.endStream()) {
            complete();
        }
    }

    @Override
    public void onTrailers(Frame.Trailers trailers) {
        // HTTP/1.1 responses from WebFlux carry no trailers: the body just ends
        body.complete();
        complete();
    }

    @Override
    public void onWindowUpdate(int increment) {
        OutboundBody outbound = requestBody;
        if (outbound != null) {
            outbound.addCredit(increment);
        }
    }

    @Override
    public void onReset(Frame.Reset reset) {
        if (finished.compareAndSet(false, true)) {
            tunnel.closeStream(streamId);
            fail(new StreamFailure(StreamFailure.Kind.RESET, reset.code(), "agent reset stream: " + reset.code()));
        }
    }

    @Override
    public void onTunnelClosed(String reason) {
        if (finished.compareAndSet(false, true)) {
            fail(new StreamFailure(StreamFailure.Kind.TUNNEL_LOST, null, reason));
        }
    }
}
