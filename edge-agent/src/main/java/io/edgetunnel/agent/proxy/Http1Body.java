package io.edgetunnel.agent.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Operators;

/**
 * A local response body as a publisher with backpressure: the exchange pushes what the codec decoded
 * and reads the socket again only while the subscriber wants more, so at most one read's buffers
 * wait here. One subscriber; its signals, and everything else, run on the connection's event loop.
 */
final class Http1Body implements Publisher<ByteBuf>, Subscription {

    /** The exchange's side: more wanted, or no longer. */
    interface Source {
        void wantMore();

        /** A chunk went to the subscriber: the body moved. */
        void delivered();

        void bodyCancelled();
    }

    private final EventLoop loop;
    private final Source source;
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private Subscriber<? super ByteBuf> subscriber;
    private long demand;
    private boolean complete;
    private Throwable error;
    private boolean terminated;
    private boolean cancelled;
    private boolean draining;

    Http1Body(EventLoop loop, Source source) {
        this.loop = loop;
        this.source = source;
    }

    @Override
    public void subscribe(Subscriber<? super ByteBuf> s) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> subscribe(s));
            return;
        }
        if (subscriber != null || cancelled) {
            Operators.error(s, new IllegalStateException("a local response body can be read once"));
            return;
        }
        subscriber = s;
        s.onSubscribe(this);
        drain();
    }

    @Override
    public void request(long n) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> request(n));
            return;
        }
        if (n <= 0) {
            cancel();
            subscriber.onError(new IllegalArgumentException("§3.9: request must be positive, was " + n));
            return;
        }
        demand = Operators.addCap(demand, n);
        drain();
    }

    @Override
    public void cancel() {
        if (!loop.inEventLoop()) {
            loop.execute(this::cancel);
            return;
        }
        if (cancelled || terminated) {
            return;
        }
        cancelled = true;
        releaseQueued();
        source.bodyCancelled();
    }

    /** The exchange ended: chunks nobody will read are released, later ones dropped. */
    void abandon() {
        if (!terminated) {
            cancelled = true;
            releaseQueued();
        }
    }

    /** A decoded chunk (owned here from now on). */
    void push(ByteBuf chunk) {
        if (cancelled || terminated) {
            chunk.release();
            return;
        }
        queue.addLast(chunk);
        drain();
    }

    void complete() {
        complete = true;
        drain();
    }

    void fail(Throwable cause) {
        if (!complete) {
            error = cause;
        }
        drain();
    }

    /** Whether the subscriber still waits for chunks nobody has read yet. */
    boolean hungry() {
        return demand > 0 && queue.isEmpty() && !complete && error == null && !cancelled;
    }

    private void drain() {
        if (draining || subscriber == null || terminated) {
            return;
        }
        draining = true;
        try {
            while (!cancelled && demand > 0 && !queue.isEmpty()) {
                demand--;
                source.delivered();
                subscriber.onNext(queue.pollFirst());
            }
            if (cancelled) {
                releaseQueued();
                return;
            }
            if (queue.isEmpty() && (complete || error != null)) {
                terminated = true;
                if (error != null) {
                    subscriber.onError(error);
                } else {
                    subscriber.onComplete();
                }
                return;
            }
        } finally {
            draining = false;
        }
        if (hungry()) {
            source.wantMore();
        }
    }

    private void releaseQueued() {
        ByteBuf chunk;
        while ((chunk = queue.pollFirst()) != null) {
            chunk.release();
        }
    }
}
