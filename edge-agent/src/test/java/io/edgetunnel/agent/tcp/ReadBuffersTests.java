package io.edgetunnel.agent.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class ReadBuffersTests {

    private static final long MIB = 1024 * 1024;

    @Test
    void capsReadsAtNettysLargestPooledSizeWhenTheHeapIsSmall() {
        assertThat(ReadBuffers.maxRead(25 * MIB, null)).isEqualTo(16 * 1024);
        assertThat(ReadBuffers.maxRead(512 * MIB, "")).isEqualTo(16 * 1024);
        assertThat(ReadBuffers.maxRead(512 * MIB + 1, null)).isEqualTo(64 * 1024);
        assertThat(ReadBuffers.maxRead(6144 * MIB, null)).isEqualTo(64 * 1024);
    }

    @Test
    void followsNettysLowMemoryPropertyOverTheHeapTest() {
        assertThat(ReadBuffers.maxRead(25 * MIB, "false")).isEqualTo(64 * 1024);
        assertThat(ReadBuffers.maxRead(6144 * MIB, " true ")).isEqualTo(16 * 1024);
    }

    @Test
    void aReadBufferNeverGrowsPastTheCapWhileReadsFillIt() {
        RecvByteBufAllocator allocator = ReadBuffers.forHeap(25 * MIB, null);
        assertThat(allocator).isInstanceOf(AdaptiveRecvByteBufAllocator.class);
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
                    // every read fills its buffer: the adaptive guess grows as far as it may
                    handle.lastBytesRead(buffer.capacity());
                    handle.incMessagesRead(1);
                    handle.readComplete();
                } finally {
                    buffer.release();
                }
            }
            assertThat(largest).isEqualTo(16 * 1024);
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
