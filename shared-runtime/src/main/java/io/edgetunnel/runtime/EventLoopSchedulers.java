package io.edgetunnel.runtime;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.ThreadExecutorMap;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A Reactor {@link Scheduler} that runs on the Netty event loop of the calling thread. A timeout or
 * timer scheduled from an event loop then fires on that same loop, so the work it cancels or
 * completes stays on one thread: no hand-off to {@code Schedulers.parallel()} and back, no
 * cross-thread wake-up per request. Off an event loop the parallel scheduler is used as before.
 */
public final class EventLoopSchedulers {

    private static final FastThreadLocal<Scheduler> PER_LOOP = new FastThreadLocal<>();

    private EventLoopSchedulers() {
    }

    /**
     * The scheduler of the caller's event loop, or {@link Schedulers#parallel()} off a loop. One
     * scheduler per loop thread, created on first use; it is never disposed (disposing would shut the
     * loop down, which belongs to its event loop group).
     */
    public static Scheduler current() {
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        if (loop == null || !loop.inEventLoop()) {
            return Schedulers.parallel();
        }
        Scheduler scheduler = PER_LOOP.get();
        if (scheduler == null) {
            scheduler = Schedulers.fromExecutorService(loop, "event-loop");
            PER_LOOP.set(scheduler);
        }
        return scheduler;
    }

    /** The Netty event loop the caller runs on, or null off a loop. */
    public static EventExecutor currentLoop() {
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        return loop != null && loop.inEventLoop() ? loop : null;
    }
}
