package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import io.edgetunnel.protocol.ResetCode;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.SignalType;

/**
 * One body-less request to a plain {@code http://} local app over a pooled HTTP/1.1 connection of its
 * event loop, straight on Netty's codec: the common request of a tunnel (a GET, a HEAD) without the
 * layers of a general HTTP client between the tunnel and the app. Same contract as the general path
 * of {@link LocalAppForwarder}: the response goes to the {@link ResponseRelay} with backpressure, a
 * refused connect is tried once more, a kept-alive connection the app closed before answering is
 * replaced once (nothing of the request can have been used), and the header and idle timeouts and
 * failures become the same {@link LocalExchangeException}s. Runs on the pool's loop throughout.
 */
final class Http1Exchange implements Http1Pool.Waiter, Http1Connection.User, Http1Body.Source {

    /** How an exchange ended, for the forwarder's request timer. */
    interface Outcome {
        void ended(int status, SignalType signal, ResetCode failure);
    }

    private final Http1Pool pool;
    private final EventLoop loop;
    private final Route route;
    private final HttpMethod method;
    private final String path;
    private final HttpHeaders headers;
    private final ResponseRelay relay;
    private final Duration responseTimeout;
    private final Duration idleTimeout;
    private final Outcome outcome;
    private MonoSink<Void> sink;

    private Http1Connection connection;
    private boolean reused;
    private boolean retriedConnect;
    private boolean retriedStale;
    private boolean skippingInformational;
    private boolean headersReceived;
    private boolean responseComplete;
    private boolean keepAlive;
    private boolean ended;
    private int status;
    private List<Header> trailers = List.of();
    private Http1Body body;
    private Disposable relayed;
    private ScheduledFuture<?> headerTimer;
    private ScheduledFuture<?> idleTimer;
    private long lastActivity;

    Http1Exchange(Http1Pool pool, Route route, HttpMethod method, String path, HttpHeaders headers,
            ResponseRelay relay, Duration responseTimeout, Duration idleTimeout, Outcome outcome) {
        this.pool = pool;
        this.loop = pool.loop();
        this.route = route;
        this.method = method;
        this.path = path;
        this.headers = headers;
        this.relay = relay;
        this.responseTimeout = responseTimeout;
        this.idleTimeout = idleTimeout;
        this.outcome = outcome;
    }

    /** Starts on the pool's loop; the sink completes when the relay has the whole body. */
    void start(MonoSink<Void> sink) {
        this.sink = sink;
        sink.onCancel(() -> onLoop(this::cancelled));
        onLoop(() -> {
            if (ended) {
                return;
            }
            headerTimer = loop.schedule(this::headerTimeout, responseTimeout.toNanos(), TimeUnit.NANOSECONDS);
            try {
                pool.acquire(this);
            } catch (RuntimeException e) {
                failed(e);
            }
        });
    }

    private void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    @Override
    public void acquired(Http1Connection acquired) {
        if (ended) {
            pool.release(acquired, true);
            return;
        }
        connection = acquired;
        reused = acquired.attach(this);
        acquired.channel().writeAndFlush(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path,
                        Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE))
                .addListener(f -> {
                    if (!f.isSuccess() && connection == acquired) {
                        onClosed(f.cause());
                    }
                });
        acquired.channel().read();
    }

    @Override
    public void failed(Throwable cause) {
        if (ended) {
            return;
        }
        if (!retriedConnect && LocalFailures.isConnectFailure(cause) && !(cause instanceof UnknownHostException)) {
            // nothing was sent: a listen queue that overflowed for an instant must not cost a 502
            retriedConnect = true;
            pool.acquire(this);
            return;
        }
        fail(cause instanceof LocalExchangeException local ? local : LocalFailures.classify(cause, false, route));
    }

    @Override
    public void onMessage(Object message) {
        if (ended) {
            ReferenceCountUtil.release(message);
            return;
        }
        if (message instanceof HttpResponse response) {
            if (response.decoderResult().isFailure()) {
                ReferenceCountUtil.release(message);
                lose(response.decoderResult().cause());
                return;
            }
            int code = response.status().code();
            if (code >= 100 && code < 200 && code != 101) {
                // 100 Continue, 103 Early Hints: the final response follows on the same connection
                skippingInformational = true;
            } else {
                onHeaders(response);
            }
        }
        if (message instanceof HttpContent content) {
            if (ended) {
                content.release();
            } else {
                onContent(content);
            }
        }
    }

    private void onHeaders(HttpResponse response) {
        if (response.status().code() == 101) {
            lose(new IOException("switched protocols without being asked to"));
            return;
        }
        headersReceived = true;
        headerTimer.cancel(false);
        status = response.status().code();
        keepAlive = HttpUtil.isKeepAlive(response);
        lastActivity = System.nanoTime();
        idleTimer = loop.schedule(this::idleCheck, idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
        body = new Http1Body(loop, this);
        List<Header> fields = LocalHeaders.rewriteResponseHeaders(HopByHopHeaders.strip(response.headers()), route);
        try {
            relayed = relay.relay(status, fields, emptyBody(response), Flux.from(body), () -> trailers)
                    .subscribe(null, this::relayFailed, this::relayCompleted);
        } catch (RuntimeException e) {
            relayFailed(e);
        }
    }

    private void onContent(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            content.release();
            lose(content.decoderResult().cause());
            return;
        }
        boolean last = content instanceof LastHttpContent;
        if (skippingInformational || body == null) {
            content.release();
            skippingInformational &= !last;
            return;
        }
        if (content.content().isReadable()) {
            body.push(content.content());
        } else {
            content.release();
        }
        if (last) {
            HttpHeaders trailing = ((LastHttpContent) content).trailingHeaders();
            if (!trailing.isEmpty()) {
                trailers = HopByHopHeaders.strip(trailing);
            }
            responseComplete = true;
            Http1Connection done = connection;
            connection = null;
            pool.release(done, keepAlive);
            body.complete();
        }
    }

    @Override
    public void onReadComplete() {
        if (!ended && connection != null && (!headersReceived || skippingInformational || body.hungry())) {
            connection.channel().read();
        }
    }

    @Override
    public void wantMore() {
        if (connection != null && !responseComplete) {
            connection.channel().read();
        }
    }

    @Override
    public void delivered() {
        lastActivity = System.nanoTime();
    }

    @Override
    public void bodyCancelled() {
        // the relay stopped reading the body (the stream ended): what is left of it is never read
        closeConnection();
    }

    @Override
    public void onClosed(Throwable cause) {
        if (ended || connection == null) {
            return;
        }
        if (!headersReceived && !skippingInformational && reused && !retriedStale && idempotent(method)) {
            // a kept-alive connection the app closed as the request went out: the same request once
            // more on another connection, only when sending it twice is harmless (RFC 9110 9.2.2)
            retriedStale = true;
            closeConnection();
            pool.acquire(this);
            return;
        }
        if (cause == null && body == null) {
            closeConnection();
            fail(new LocalExchangeException(ResetCode.UPSTREAM_ERROR,
                    "local app " + route.localUrl() + " closed the connection before responding", null));
            return;
        }
        lose(cause != null ? cause : new IOException("local app closed the connection mid-response"));
    }

    /** The connection failed, or closed before the response ended. */
    private void lose(Throwable cause) {
        closeConnection();
        if (body != null) {
            body.fail(cause);
        } else {
            fail(LocalFailures.classify(cause, false, route));
        }
    }

    private void relayCompleted() {
        if (!responseComplete) {
            closeConnection();
        }
        end(SignalType.ON_COMPLETE, null);
        sink.success();
    }

    private void relayFailed(Throwable cause) {
        fail(cause instanceof LocalExchangeException local ? local : LocalFailures.classify(cause, true, route));
    }

    private void headerTimeout() {
        if (!headersReceived && !ended) {
            fail(new LocalExchangeException(ResetCode.UPSTREAM_TIMEOUT, "local app " + route.localUrl()
                    + " sent no response headers within " + responseTimeout, null));
        }
    }

    /**
     * One timer for the whole body, re-armed for the time left whenever bytes moved meanwhile: until
     * the relay has taken the last of them (a stalled client can leave a read body queued here).
     */
    private void idleCheck() {
        if (ended) {
            return;
        }
        long idleNanos = System.nanoTime() - lastActivity;
        if (idleNanos >= idleTimeout.toNanos()) {
            fail(new LocalExchangeException(ResetCode.UPSTREAM_TIMEOUT,
                    "no body bytes either way for " + idleTimeout + " on route " + route.claim(), null));
        } else {
            idleTimer = loop.schedule(this::idleCheck, idleTimeout.toNanos() - idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void fail(LocalExchangeException failure) {
        if (abort(SignalType.ON_ERROR, failure.resetCode())) {
            sink.error(failure);
        }
    }

    private void cancelled() {
        abort(SignalType.CANCEL, null);
    }

    /** Stops whatever is under way (relay, connection, place in the pool's queue); false if it ended before. */
    private boolean abort(SignalType signal, ResetCode failure) {
        if (ended) {
            return false;
        }
        if (relayed != null) {
            relayed.dispose();
        }
        closeConnection();
        pool.cancel(this);
        end(signal, failure);
        return true;
    }

    private void end(SignalType signal, ResetCode failure) {
        ended = true;
        if (body != null) {
            body.abandon();
        }
        if (headerTimer != null) {
            headerTimer.cancel(false);
        }
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        outcome.ended(status, signal, failure);
    }

    private void closeConnection() {
        Http1Connection current = connection;
        connection = null;
        if (current != null) {
            current.detach();
            current.channel().close();
        }
    }

    private static boolean idempotent(HttpMethod method) {
        return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
                || method == HttpMethod.TRACE || method == HttpMethod.PUT || method == HttpMethod.DELETE;
    }

    private boolean emptyBody(HttpResponse response) {
        if (HttpMethod.HEAD.equals(method) || status == 204 || status == 304) {
            return true;
        }
        String length = response.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        return length != null && "0".equals(length.trim());
    }
}
