package io.edgetunnel.ingress.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector reported any leaked buffer during it. Leaks surface
 * only after GC, when later allocations poll the detector's reference queue, so this collects
 * garbage and allocates a few times before looking.
 */
public final class NoLeaks implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        LeakRecorder.install();
        assertThat(LeakRecorder.isInstalled()).isTrue();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertNoLeaks();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        assertNoLeaks();
    }

    public static void assertNoLeaks() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 64; j++) {
                ByteBuf pooled = PooledByteBufAllocator.DEFAULT.buffer(64);
                pooled.release();
                ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.buffer(64);
                unpooled.release();
            }
        }
        assertThat(LeakRecorder.leaks()).as("Netty buffer leaks").isEmpty();
    }
}
