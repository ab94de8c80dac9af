package io.edgetunnel.runtime;

import org.springframework.boot.context.event.ApplicationStartingEvent;
import org.springframework.context.ApplicationListener;

/**
 * One Netty event loop per available processor, instead of Reactor Netty's default of at least four.
 * Both services keep a request on the event loop that received it (the ingress prefers a tunnel on
 * the public connection's loop, the agent runs the local connection on its tunnel's loop); with
 * more loops than cores the agent's few tunnels cover fewer of the ingress's loops and requests
 * hop threads, and idle loops only add wake-ups. Measured on 2 cores: about 1.5× the requests per
 * second at concurrency 1 and a third less CPU per request (docs/benchmarks.md).
 *
 * <p>Runs before anything creates Reactor Netty's loops; an explicit {@code
 * -Dreactor.netty.ioWorkerCount=N} (for example in {@code JAVA_TOOL_OPTIONS}) wins.
 */
public final class EventLoopSizing implements ApplicationListener<ApplicationStartingEvent> {

    static final String IO_WORKER_COUNT = "reactor.netty.ioWorkerCount";

    @Override
    public void onApplicationEvent(ApplicationStartingEvent event) {
        apply(Runtime.getRuntime().availableProcessors());
    }

    /** Sets the loop count to {@code processors} unless one was configured; returns the count in effect. */
    static String apply(int processors) {
        String configured = System.getProperty(IO_WORKER_COUNT);
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        String count = String.valueOf(Math.max(1, processors));
        System.setProperty(IO_WORKER_COUNT, count);
        return count;
    }
}
