package io.edgetunnel.ingress.tunnel;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A view of an event loop group that registers each channel on the loop with the fewest channels it
 * registered still open (the first such loop on a tie), for {@link BalancedTunnelLoops}. Lifecycle
 * calls go to the underlying group, whose owner shuts it down; this view never does.
 */
final class LeastTunnelsGroup extends AbstractEventExecutorGroup implements EventLoopGroup {

    private final EventLoopGroup delegate;
    private final List<EventLoop> loops = new ArrayList<>();
    private final AtomicIntegerArray open;

    LeastTunnelsGroup(EventLoopGroup delegate) {
        this.delegate = delegate;
        for (EventExecutor executor : delegate) {
            if (executor instanceof EventLoop loop) {
                loops.add(loop);
            }
        }
        this.open = new AtomicIntegerArray(Math.max(1, loops.size()));
    }

    EventLoopGroup delegate() {
        return delegate;
    }

    /** Channels registered through this view and still open, per loop, in the group's order. */
    int[] openPerLoop() {
        int[] counts = new int[loops.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = open.get(i);
        }
        return counts;
    }

    private int leastLoaded() {
        int best = 0;
        for (int i = 1; i < loops.size(); i++) {
            if (open.get(i) < open.get(best)) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public EventLoop next() {
        return loops.isEmpty() ? delegate.next() : loops.get(leastLoaded());
    }

    @Override
    public ChannelFuture register(Channel channel) {
        if (loops.isEmpty()) {
            return delegate.register(channel);
        }
        // choosing and counting are not one atomic step: two accepts at once may pick the same loop,
        // which only costs balance, and the next accepts correct it
        int index = leastLoaded();
        open.incrementAndGet(index);
        channel.closeFuture().addListener(f -> open.decrementAndGet(index));
        return loops.get(index).register(channel);
    }

    @Override
    public ChannelFuture register(ChannelPromise promise) {
        return register(promise.channel()).addListener(f -> {
            if (f.isSuccess()) {
                promise.trySuccess();
            } else {
                promise.tryFailure(f.cause());
            }
        });
    }

    @Override
    @Deprecated
    public ChannelFuture register(Channel channel, ChannelPromise promise) {
        return register(promise);
    }

    @Override
    public Iterator<EventExecutor> iterator() {
        return delegate.iterator();
    }

    @Override
    public boolean isShuttingDown() {
        return delegate.isShuttingDown();
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        return delegate.terminationFuture();
    }

    @Override
    public Future<?> terminationFuture() {
        return delegate.terminationFuture();
    }

    @Override
    @Deprecated
    public void shutdown() {
        // not ours to shut down
    }

    @Override
    public boolean isShutdown() {
        return delegate.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return delegate.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return delegate.awaitTermination(timeout, unit);
    }
}
