package io.edgetunnel.testsupport;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Netty 4.2's adaptive allocator takes a StampedLock write lock, briefly, when several threads
 * contend and it grows or retires a magazine. That is bounded in-memory bookkeeping, not I/O, so
 * it is allowed here, narrowly; any other blocking call on a non-blocking thread still fails.
 *
 * <p>Likewise the queue lock of a {@code ScheduledThreadPoolExecutor} (Reactor's parallel scheduler),
 * taken for a few instructions when an event loop schedules or cancels a timer. Left to BlockHound,
 * a contended acquire throws from inside the lock's park, and the lock stays held for good: every
 * later timer of the JVM then hung (seen once in TunnelClientIntegrationTests, then every context
 * start timed out).
 */
public final class AllocatorBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "allocate");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "tryAllocate");
        builder.allowBlockingCallsInside("java.util.concurrent.ScheduledThreadPoolExecutor", "delayedExecute");
        builder.allowBlockingCallsInside("java.util.concurrent.ThreadPoolExecutor", "remove");
    }
}
