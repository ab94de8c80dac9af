package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.tunnel.StreamListener;
import io.edgetunnel.ingress.tunnel.TunnelSession;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.stream.FrameSink;
import io.edgetunnel.protocol.stream.InboundBody;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.edgetunnel.protocol.websocket.WebSocketRecords;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One public request on one tunnel stream: sends the request (headers, then the body through an
 * {@link OutboundBody}), exposes the agent's response headers as a Mono and its body as an
 * {@link InboundBody}, and ends the stream exactly once whichever side finishes it.
 */
final class ProxyStream implements StreamListener {

    /**
     * How long an upgraded stream whose WebSocket closed on one side waits for the other direction's
     * END_STREAM before it resets (spec section 19.3).
     */
    static final Duration WEBSOCKET_CLOSE_GRACE = Duration.ofSeconds(10);

    private final TunnelSession tunnel;
    private final IngressMetrics metrics;
    private final Sinks.One<Frame.Response> response = Sinks.one();
    private final AtomicBoolean finished = new AtomicBoolean();

    private int streamId;
    private InboundBody body;
    private volatile OutboundBody requestBody;
    private volatile boolean requestBodyDone;
    private volatile boolean dataSent;
    /** A WebSocket upgrade the agent accepted with 101: both directions carry records (spec section 19). */
    private volatile boolean upgradeRequested;
    private volatile boolean upgraded;
    private volatile boolean responseDone;
    private volatile boolean responseAbandoned;
    private volatile Disposable closeGrace;
    private volatile List<Header> trailers = List.of();

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
                tunnel.windowGrowth(),
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

    /** The response's trailer fields; complete once {@link #body} completed, empty when none came. */
    List<Header> trailers() {
        return trailers;
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
                dataSink,
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

    /** Where the bodies' DATA frames go: the tunnel, whose queue also paces them on a slow link. */
    private final FrameSink dataSink = new FrameSink() {
        @Override
        public void send(Frame frame) {
            dataSent = true;
            tunnel.send(frame);
        }

        @Override
        public boolean writable() {
            return tunnel.writable();
        }

        @Override
        public void whenWritable(Runnable task) {
            tunnel.whenWritable(task);
        }
    };

    /** Sends a WebSocket upgrade REQUEST: the request direction stays open for records after a 101. */
    void sendUpgrade(Frame.Request request) {
        upgradeRequested = true;
        tunnel.send(request);
    }

    /** Ends the stream at once with a RESET of {@code code}, whatever its state. */
    void reset(ResetCode code, String why) {
        abort(code, new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, why));
    }

    /**
     * The agent answered the upgrade with 101: from now on {@code records} (the client's WebSocket
     * frames as records) go to the agent, one DATA frame each, within its window; {@code listener}
     * learns how that direction ended.
     */
    void sendRecords(Flux<ByteBuf> records, OutboundBody.Listener listener) {
        OutboundBody outbound = OutboundBody.records(
                streamId,
                tunnel.initialStreamWindow(),
                tunnel.maxDataPayload(),
                dataSink,
                new OutboundBody.Listener() {
                    @Override
                    public void onComplete() {
                        requestBodyDone = true;
                        listener.onComplete();
                        if (responseDone || responseAbandoned) {
                            finishUpgraded();
                        } else {
                            armCloseGrace();
                        }
                    }

                    @Override
                    public void onError(Throwable cause) {
                        requestBodyDone = true;
                        listener.onError(cause);
                        abort(ResetCode.CANCEL, new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null,
                                "websocket lost: " + cause.getMessage()));
                    }
                });
        requestBody = outbound;
        records.subscribe(outbound);
    }

    /** Records of the agent's direction fit the public WebSocket's fragment size. */
    int fragmentSize() {
        return WebSocketRecords.fragmentSize(
                tunnel.maxDataPayload(), tunnel.initialStreamWindow());
    }

    /**
     * Our side gives up on the stream (timeout, client gone): the agent is told to cancel. An
     * upgraded stream first lets a close record still on its way reach the agent.
     */
    void cancel(String why) {
        if (upgraded && !requestBodyDone) {
            responseAbandoned = true;
            armCloseGrace();
            return;
        }
        abort(ResetCode.CANCEL, new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, why));
    }

    private void armCloseGrace() {
        if (closeGrace == null && !finished.get()) {
            closeGrace = Mono.delay(WEBSOCKET_CLOSE_GRACE).subscribe(tick -> abort(
                    ResetCode.CANCEL,
                    new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, "websocket close not finished within "
                            + WEBSOCKET_CLOSE_GRACE)));
        }
    }

    /** Both directions of an upgraded stream ended: the stream closes without a reset. */
    private void finishUpgraded() {
        if (finished.compareAndSet(false, true)) {
            disarmCloseGrace();
            tunnel.closeStream(streamId);
            if (responseAbandoned && !responseDone) {
                // the client is gone: whatever the agent still sends is of no use
                tunnel.send(new Frame.Reset(streamId, ResetCode.CANCEL, "websocket closed"));
                body.fail(new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, "websocket closed"));
            }
        }
    }

    private void disarmCloseGrace() {
        Disposable timer = closeGrace;
        if (timer != null) {
            timer.dispose();
        }
    }

    private void abort(ResetCode code, StreamFailure failure) {
        if (finished.compareAndSet(false, true)) {
            disarmCloseGrace();
            tunnel.closeStream(streamId);
            tunnel.send(new Frame.Reset(streamId, code, failure.getMessage()));
            fail(failure);
        }
    }

    private void fail(StreamFailure failure) {
        response.tryEmitError(failure);
        body.fail(failure);
        // the request side last: on an upgraded stream the body's error makes the bridge send the client
        // its 1014 close, and cancelling the client's frames first would close it with an empty close
        // frame (Reactor Netty's answer to a cancelled WebSocket receive), which a browser reports as 1005
        OutboundBody outbound = requestBody;
        if (outbound != null) {
            outbound.cancel();
        }
    }

    /** The response ended normally. */
    private void complete() {
        if (upgraded) {
            // the agent's WebSocket closed; ours closes once the close record reached the client
            responseDone = true;
            if (requestBodyDone) {
                finishUpgraded();
            } else {
                armCloseGrace();
            }
            return;
        }
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
        if (upgradeRequested && frame.status() == 101 && !frame.endStream()) {
            // set before the Response is handed on: records may follow at once, even the app's close
            upgraded = true;
        }
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
        // kept before the body completes, so whoever sees the completion can read them
        this.trailers = trailers.headers();
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
            disarmCloseGrace();
            tunnel.closeStream(streamId);
            fail(new StreamFailure(StreamFailure.Kind.RESET, reset.code(), "agent reset stream: " + reset.code()));
        }
    }

    @Override
    public void onTunnelClosed(String reason) {
        if (finished.compareAndSet(false, true)) {
            disarmCloseGrace();
            fail(new StreamFailure(StreamFailure.Kind.TUNNEL_LOST, null, reason));
        }
    }
}
