package io.edgetunnel.agent.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class ReadBuffersTests {

    private static final long MIB = 1024 * 1024;

    @Test
    void aHeapOf512MibOrLessIsNettysLowMemoryMode() {
        // the suite runs without io.netty.allocator.lowMemory, so the heap decides
        assertThat(System.getProperty("io.netty.allocator.lowMemory")).isNull();
        assertThat(ReadBuffers.lowMemory(25 * MIB)).isTrue();
        assertThat(ReadBuffers.lowMemory(512 * MIB)).isTrue();
        assertThat(ReadBuffers.lowMemory(512 * MIB + 1)).isFalse();
        assertThat(ReadBuffers.lowMemory(6144 * MIB)).isFalse();
    }

    @Test
    void aReadBufferGrowsToNettysLargestPooledSizeInLowMemoryModeAndTo64KibOtherwise() {
        assertThat(largestReadBuffer(ReadBuffers.forLowMemory(true))).isEqualTo(16 * 1024);
        assertThat(largestReadBuffer(ReadBuffers.forLowMemory(false))).isEqualTo(64 * 1024);
    }

    @Test
    void aChannelStillReadsUpTo16TimesPerWakeUp() {
        for (RecvByteBufAllocator allocator : new RecvByteBufAllocator[] {
                ReadBuffers.forLowMemory(true), ReadBuffers.forLowMemory(false), ReadBuffers.forSockets()}) {
            assertThat(allocator).isInstanceOf(AdaptiveRecvByteBufAllocator.class);
            assertThat(((MaxMessagesRecvByteBufAllocator) allocator).maxMessagesPerRead()).isEqualTo(16);
        }
    }

    /** The largest buffer a handle asks for when every read fills its buffer (the guess grows as far as it may). */
    private static int largestReadBuffer(RecvByteBufAllocator allocator) {
        EmbeddedChannel channel = new EmbeddedChannel();
        try {
            ChannelConfig config = channel.config();
            config.setAllocator(UnpooledByteBufAllocator.DEFAULT);
            RecvByteBufAllocator.Handle handle = allocator.newHandle();
            int largest = 0;
            for (int round = 0; round < 20; round++) {
                handle.reset(config);
                ByteBuf buffer = handle.allocate(config.getAllocator());
                try {
                    largest = Math.max(largest, buffer.capacity());
                    handle.lastBytesRead(buffer.capacity());
                    handle.incMessagesRead(1);
                    handle.readComplete();
                } finally {
                    buffer.release();
                }
            }
            return largest;
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
