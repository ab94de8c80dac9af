package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.tunnel.StreamOpener;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.session.StreamEnd;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.InboundBody;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.edgetunnel.protocol.websocket.WebSocketRecords;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * One public request on one tunnel stream, the ingress's handler of a {@link TunnelStream}: the
 * request goes out as the stream's REQUEST (its body through an {@link OutboundBody} once the REQUEST
 * is queued), the agent's response headers come as a Mono and its body as the stream's {@link
 * InboundBody}; the stream ends once, whichever side finishes it, and {@link #onEnd} turns that into
 * the public exchange's outcome.
 */
final class ProxyStream implements StreamHandler {

    /**
     * How long an upgraded stream whose WebSocket closed on one side waits for the other direction's
     * END_STREAM before it resets (spec section 19.3).
     */
    static final Duration WEBSOCKET_CLOSE_GRACE = Duration.ofSeconds(10);

    private final StreamOpener tunnel;
    private final Sinks.One<Frame.Response> response = Sinks.one();
    /** The request body's source, or null when the REQUEST carries END_STREAM or opens a WebSocket. */
    private final Supplier<Flux<ByteBuf>> bodySource;
    /** A WebSocket upgrade: the request direction stays open for records after a 101 (spec section 19). */
    private final boolean upgradeRequested;

    private TunnelStream stream;
    private volatile OutboundBody requestBody;
    private volatile boolean requestBodyDone;
    private volatile boolean upgraded;
    private volatile boolean responseDone;
    private volatile boolean responseAbandoned;
    private volatile Disposable closeGrace;
    private volatile List<Header> trailers = List.of();
    private volatile Disposable responseTimer;
    /** The response headers came, or the stream ended: the response timer has nothing left to do. */
    private volatile boolean responseSettled;

    private ProxyStream(StreamOpener tunnel, Supplier<Flux<ByteBuf>> bodySource, boolean upgradeRequested) {
        this.tunnel = tunnel;
        this.bodySource = bodySource;
        this.upgradeRequested = upgradeRequested;
        this.requestBodyDone = bodySource == null && !upgradeRequested;
    }

    /**
     * Opens a stream on {@code tunnel} whose REQUEST {@code request} builds from the stream id, with
     * {@code body} streamed after it (null: none), or returns null when the tunnel takes no new
     * stream now. With {@code upgrade} the request direction stays open for WebSocket records.
     */
    static ProxyStream open(StreamOpener tunnel, IntFunction<Frame.Request> request, Supplier<Flux<ByteBuf>> body,
            boolean upgrade) {
        ProxyStream proxy = new ProxyStream(tunnel, body, upgrade);
        TunnelStream stream = tunnel.openStream(request, opened -> {
            proxy.stream = opened; // before any callback can come
            return proxy;
        });
        return stream == null ? null : proxy;
    }

    StreamOpener tunnel() {
        return tunnel;
    }

    int streamId() {
        return stream.id();
    }

    /**
     * The response headers; errors with {@link StreamFailure} when the stream ends before them, and
     * with a {@link TimeoutException} when they did not come within {@link #expireResponseAfter}'s time.
     */
    Mono<Frame.Response> response() {
        return response.asMono();
    }

    /**
     * Fails {@link #response} with a {@link TimeoutException} unless it came within {@code timeout}; the
     * timer runs on {@code timers} and is cancelled once the response or the stream's end comes first.
     */
    void expireResponseAfter(Duration timeout, Scheduler timers) {
        Disposable timer = timers.schedule(
                () -> response.tryEmitError(new TimeoutException("no response within " + timeout)),
                timeout.toNanos(), TimeUnit.NANOSECONDS);
        responseTimer = timer;
        if (responseSettled) {
            // settled before the timer was stored (the agent answered on another loop meanwhile)
            timer.dispose();
        }
    }

    private void settleResponse() {
        responseSettled = true;
        Disposable timer = responseTimer;
        if (timer != null) {
            timer.dispose();
        }
    }

    /** The response body; subscribe once, or {@link #cancel} / let the stream fail to free it. */
    InboundBody body() {
        return stream.inbound();
    }

    /** The response's trailer fields; complete once {@link #body} completed, empty when none came. */
    List<Header> trailers() {
        return trailers;
    }

    /** Whether any request body bytes went to the agent (then the request must not be retried). */
    boolean dataSent() {
        return stream.dataSent();
    }

    /** The REQUEST is queued: the body follows, within the agent's window. */
    @Override
    public void onStarted() {
        if (bodySource == null) {
            return;
        }
        OutboundBody outbound = stream.newBody(new OutboundBody.Listener() {
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
        }, List::of);
        requestBody = outbound;
        bodySource.get().subscribe(outbound);
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
        OutboundBody outbound = stream.newRecordBody(new OutboundBody.Listener() {
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
        return WebSocketRecords.fragmentSize(stream.settings().maxChunk(), stream.settings().window());
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
        // a stream that had already completed is not reset, and its body may hold data that nobody
        // will subscribe to any more (the exchange is gone): drop it, or it leaks
        stream.inbound().discard();
    }

    private void armCloseGrace() {
        if (closeGrace == null && !stream.isEnded()) {
            closeGrace = Mono.delay(WEBSOCKET_CLOSE_GRACE).subscribe(tick -> abort(
                    ResetCode.CANCEL,
                    new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, "websocket close not finished within "
                            + WEBSOCKET_CLOSE_GRACE)));
        }
    }

    /** Both directions of an upgraded stream ended: the stream closes without a reset. */
    private void finishUpgraded() {
        if (responseAbandoned && !responseDone) {
            // the client is gone: whatever the agent still sends is of no use
            abort(ResetCode.CANCEL, new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, "websocket closed"));
        } else {
            stream.complete();
        }
    }

    private void disarmCloseGrace() {
        Disposable timer = closeGrace;
        if (timer != null) {
            timer.dispose();
        }
    }

    private void abort(ResetCode code, StreamFailure failure) {
        stream.reset(code, failure.getMessage(), failure);
    }

    private void fail(StreamFailure failure) {
        response.tryEmitError(failure);
        stream.inbound().fail(failure);
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
        if (requestBodyDone) {
            stream.complete();
        } else {
            // the agent answered before reading the whole body: stop sending it (protocol section 7.2);
            // the response and its body are complete already, so only the request side is cancelled
            abort(ResetCode.CANCEL, new StreamFailure(StreamFailure.Kind.CLIENT_ABORT, null, "response complete"));
        }
    }

    // ------------------------------------------------------------------ StreamHandler

    @Override
    public void onResponse(Frame.Response frame) {
        if (upgradeRequested && frame.status() == 101 && !frame.endStream()) {
            // set before the Response is handed on: records may follow at once, even the app's close
            upgraded = true;
        }
        settleResponse();
        response.tryEmitValue(frame);
    }

    @Override
    public void onTrailers(List<Header> fields) {
        // kept before the body completes, so whoever sees the completion can read them
        this.trailers = fields;
    }

    @Override
    public void onRemoteEnd() {
        complete();
    }

    @Override
    public void onInboundCancelled() {
        cancel("client went away");
    }

    @Override
    public void onEnd(StreamEnd end) {
        settleResponse();
        disarmCloseGrace();
        if (end instanceof StreamEnd.LocalReset reset) {
            if (reset.cause() instanceof StreamFailure failure) {
                fail(failure);
            } else {
                // the agent broke the stream's rules (protocol section 7.2)
                fail(new StreamFailure(StreamFailure.Kind.RESET, reset.code(), "agent stream error: " + reset.message()));
            }
        } else if (end instanceof StreamEnd.PeerReset reset) {
            fail(new StreamFailure(StreamFailure.Kind.RESET, reset.code(), "agent reset stream: " + reset.code()));
        } else if (end instanceof StreamEnd.TunnelClosed closed) {
            fail(new StreamFailure(
                    closed.sent() ? StreamFailure.Kind.TUNNEL_LOST : StreamFailure.Kind.NOT_SENT, null, closed.reason()));
        }
    }
}
