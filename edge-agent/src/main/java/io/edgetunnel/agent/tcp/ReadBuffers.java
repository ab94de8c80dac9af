package io.edgetunnel.agent.tcp;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.internal.SystemPropertyUtil;

/**
 * How large a buffer each read of the agent's sockets (tunnels, local apps, TCP routes) may take.
 *
 * <p>Netty's adaptive buffer allocator (its default since 4.2) runs in a low-memory mode when the
 * heap limit is 512 MiB or less, which is always the case in the agent's image (a fifth of its
 * container). In that mode it pools buffers of up to 16,896 bytes only: a larger read buffer (Netty
 * grows them to 64 KiB while reads fill them) is a one-off chunk, allocated outside the pool and
 * freed after each read, which took ~4 % of the agent's CPU at 50 concurrent small requests in a
 * profile (docs/benchmarks.md, "Footprint", the options table). Reads are capped at 16 KiB there, so
 * they come from the pool; with a larger heap Netty's default range stays, for fewer reads of a bulk
 * transfer. Either way a channel reads up to 16 times per wake-up, as with Netty's own allocator.
 */
public final class ReadBuffers {

    /** Netty's threshold ({@code AdaptivePoolingAllocator}): a heap limit at or below it is low memory. */
    static final long LOW_MEMORY_HEAP_BYTES = 512L * 1024 * 1024;
    /** The largest read buffer Netty's low-memory pool serves (its largest size class is 16,896). */
    static final int LOW_MEMORY_MAX_READ = 16 * 1024;
    /** Netty's own range for the adaptive read buffer, and its reads per wake-up of a stream channel. */
    static final int MIN_READ = 64;
    static final int INITIAL_READ = 2048;
    static final int MAX_READ = 64 * 1024;
    static final int READS_PER_WAKE_UP = 16;

    private static final RecvByteBufAllocator FOR_THIS_JVM =
            forLowMemory(lowMemory(Runtime.getRuntime().maxMemory()));

    private ReadBuffers() {
    }

    /** The read buffer allocator for a socket of this JVM (shareable: each channel takes a handle). */
    public static RecvByteBufAllocator forSockets() {
        return FOR_THIS_JVM;
    }

    /** Netty's own test, with its property {@code io.netty.allocator.lowMemory} read the way Netty reads it. */
    static boolean lowMemory(long maxHeapBytes) {
        return SystemPropertyUtil.getBoolean("io.netty.allocator.lowMemory", maxHeapBytes <= LOW_MEMORY_HEAP_BYTES);
    }

    static RecvByteBufAllocator forLowMemory(boolean lowMemory) {
        // a new allocator reads once per wake-up: Netty sets 16 only on the ones it makes itself
        return new AdaptiveRecvByteBufAllocator(MIN_READ, INITIAL_READ, lowMemory ? LOW_MEMORY_MAX_READ : MAX_READ)
                .maxMessagesPerRead(READS_PER_WAKE_UP);
    }
}
