package io.edgetunnel.ingress.proxy;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import org.reactivestreams.Subscription;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoOperator;
import reactor.netty.Connection;
import reactor.netty.channel.ChannelOperations;
import reactor.netty.http.HttpConnectionLiveness;
import reactor.netty.http.IdleTimeoutHandler;
import reactor.util.context.Context;

/**
 * Keeps a kept-alive HTTP/1.1 connection reading after a request the ingress answers on the spot
 * (unknown host, no agent, a refused request): on the public port and on the cluster port's HTTP hop.
 *
 * <p>Reactor Netty 1.3.7 reads the next request on demand, and one path never asks for it: a
 * request that waited behind the previous one (pipelined, or sent the instant the previous response
 * left) is dispatched from the connection's queue; when its whole response is written within that
 * dispatch, the response's end finds the request's own last part still queued, schedules another
 * drain, and the drain that runs finds the queue empty and returns without asking for a read. The
 * connection then sits idle until the client gives up (reactor/reactor-netty#4361, fixed by #4347
 * in 1.3.8, which needs newer Netty and Reactor than this build can take). Behind the ALB that is a
 * gateway timeout for whichever request comes next on that connection.
 *
 * <p>So when the handler completes while it is still being subscribed (the only way a response can
 * end inside that dispatch), the connection's loop is asked, as its next task, for one more read: by
 * then the dispatch has drained the queue. A read asked for while one is pending changes nothing,
 * and a request it reads while the previous one is still being answered waits in Reactor Netty's
 * queue as any pipelined request does. Before the read, the connection's idle timeout is armed again
 * when no exchange is open, as Reactor Netty itself does when it asks for the next request (it took
 * the timeout off when the request arrived). Responses that end later (everything proxied through a
 * tunnel) pass straight through. (Reactor Netty delivers a request body as it is read, so a response
 * that ends during the dispatch belongs to a request read whole before it.)
 */
public final class KeepAliveReadGuard implements HttpHandler {

    private final HttpHandler delegate;
    private final Duration idleTimeout;

    /** @param idleTimeout the server's keep-alive idle timeout, or null when it has none */
    public KeepAliveReadGuard(HttpHandler delegate, Duration idleTimeout) {
        this.delegate = delegate;
        this.idleTimeout = idleTimeout;
    }

    @Override
    public Mono<Void> handle(ServerHttpRequest request, ServerHttpResponse response) {
        Mono<Void> handled = delegate.handle(request, response);
        // HTTP/1.1 only: an HTTP/2 stream is no connection of its own, and its reads are the codec's
        return nativeRequest(request) instanceof Connection connection
                        && !(connection.channel() instanceof Http2StreamChannel)
                ? new ReadAfterSynchronousEnd(handled, connection.channel(), idleTimeout)
                : handled;
    }

    /** Reactor Netty's request under Spring's, or null for a request Spring did not build. */
    private static Object nativeRequest(ServerHttpRequest request) {
        try {
            return ServerHttpRequestDecorator.getNativeRequest(request);
        } catch (IllegalArgumentException notSpringsOwn) {
            return null;
        }
    }

    private static final class ReadAfterSynchronousEnd extends MonoOperator<Void, Void> {

        private final Channel channel;
        private final Duration idleTimeout;

        ReadAfterSynchronousEnd(Mono<Void> source, Channel channel, Duration idleTimeout) {
            super(source);
            this.channel = channel;
            this.idleTimeout = idleTimeout;
        }

        @Override
        public void subscribe(CoreSubscriber<? super Void> actual) {
            Relay relay = new Relay(actual, channel, idleTimeout);
            source.subscribe(relay);
            relay.subscribing = false;
        }
    }

    private static final class Relay implements CoreSubscriber<Void>, Subscription {

        private final CoreSubscriber<? super Void> actual;
        private final Channel channel;
        private final Duration idleTimeout;
        /** True until the source's subscribe returned; read on whichever thread the source ends. */
        volatile boolean subscribing = true;
        private Subscription upstream;

        Relay(CoreSubscriber<? super Void> actual, Channel channel, Duration idleTimeout) {
            this.actual = actual;
            this.channel = channel;
            this.idleTimeout = idleTimeout;
        }

        @Override
        public Context currentContext() {
            return actual.currentContext();
        }

        @Override
        public void onSubscribe(Subscription subscription) {
            upstream = subscription;
            actual.onSubscribe(this);
        }

        @Override
        public void onNext(Void value) {
            // a Mono<Void> emits no value
        }

        @Override
        public void onError(Throwable error) {
            readNextIfEndedDuringSubscribe();
            actual.onError(error);
        }

        @Override
        public void onComplete() {
            readNextIfEndedDuringSubscribe();
            actual.onComplete();
        }

        private void readNextIfEndedDuringSubscribe() {
            if (!subscribing) {
                return;
            }
            try {
                channel.eventLoop().execute(this::readNext);
            } catch (RejectedExecutionException shuttingDown) {
                // the loop is going away with its connections
            }
        }

        private void readNext() {
            if (!channel.isActive()) {
                return;
            }
            if (ChannelOperations.get(channel) == null) {
                IdleTimeoutHandler.addIdleTimeoutHandler(channel.pipeline(), idleTimeout, HttpConnectionLiveness.CLOSE);
            }
            channel.read();
        }

        @Override
        public void request(long n) {
            upstream.request(n);
        }

        @Override
        public void cancel() {
            upstream.cancel();
        }
    }
}
