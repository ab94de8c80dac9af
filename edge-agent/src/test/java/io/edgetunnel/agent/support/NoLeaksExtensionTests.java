package io.edgetunnel.agent.support;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The leak check the integration tests rely on really fails on a leaked buffer. */
class NoLeaksExtensionTests {

    @Test
    void reportsABufferThatWasNeverReleased() {
        new NoLeaksExtension().beforeEach(null);
        leak();

        assertThatThrownBy(NoLeaksExtension::assertNoLeaks)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("LEAK");
        org.assertj.core.api.Assertions.assertThat(ResourceLeakDetector.getLevel())
                .isEqualTo(ResourceLeakDetector.Level.PARANOID);
    }

    private static void leak() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        leaked.writeLong(42);
    }
}
