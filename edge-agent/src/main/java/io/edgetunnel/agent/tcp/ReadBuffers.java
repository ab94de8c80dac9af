package io.edgetunnel.agent.tcp;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

/**
 * How large a buffer each read of the agent's sockets (tunnels, local apps, TCP routes) may take.
 *
 * <p>Netty's adaptive buffer allocator (its default since 4.2) runs in a low-memory mode when the
 * heap limit is 512 MiB or less, which is always the case in the agent's image (a fifth of its
 * container). In that mode it pools buffers of up to 16,896 bytes only: a larger read buffer (Netty
 * grows them to 64 KiB while reads fill them) is a one-off chunk, allocated outside the pool and
 * freed after each read, which cost the agent ~4 % of its CPU at 50 concurrent small requests
 * (docs/benchmarks.md, "Footprint", run 43). Reads are capped at 16 KiB there, so they come from the
 * pool; with a larger heap Netty's default range stays, for fewer reads of a bulk transfer.
 */
public final class ReadBuffers {

    /** Netty's threshold ({@code AdaptivePoolingAllocator}): a heap limit at or below it is low memory. */
    static final long LOW_MEMORY_HEAP_BYTES = 512L * 1024 * 1024;
    /** The largest read buffer Netty's low-memory pool serves (its largest size class is 16,896). */
    static final int LOW_MEMORY_MAX_READ = 16 * 1024;
    /** Netty's own range for the adaptive read buffer. */
    static final int MIN_READ = 64;
    static final int INITIAL_READ = 2048;
    static final int MAX_READ = 64 * 1024;

    private static final RecvByteBufAllocator FOR_THIS_JVM = forHeap(
            Runtime.getRuntime().maxMemory(), System.getProperty("io.netty.allocator.lowMemory"));

    private ReadBuffers() {
    }

    /** The read buffer allocator for a socket of this JVM (shareable: each channel takes a handle). */
    public static RecvByteBufAllocator forSockets() {
        return FOR_THIS_JVM;
    }

    /** @param lowMemoryProperty Netty's {@code io.netty.allocator.lowMemory}, which overrides the heap test */
    static RecvByteBufAllocator forHeap(long maxHeapBytes, String lowMemoryProperty) {
        return new AdaptiveRecvByteBufAllocator(MIN_READ, INITIAL_READ, maxRead(maxHeapBytes, lowMemoryProperty));
    }

    static int maxRead(long maxHeapBytes, String lowMemoryProperty) {
        boolean lowMemory = lowMemoryProperty == null || lowMemoryProperty.isBlank()
                ? maxHeapBytes <= LOW_MEMORY_HEAP_BYTES
                : Boolean.parseBoolean(lowMemoryProperty.trim());
        return lowMemory ? LOW_MEMORY_MAX_READ : MAX_READ;
    }
}
