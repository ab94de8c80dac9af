package io.edgetunnel.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.Extension;

/** The leak check every test class gets: what it reports, that it reports a leak once, that it is registered. */
class NoLeaksTests {

    @Test
    void reportsALeakedBufferWithItsWholeAccessTrail() {
        leakAfterSixDistinctAccesses();

        // Netty keeps 4 access records by default; the build asks for 32, so all six are there
        assertThatThrownBy(NoLeaks::assertNoLeaks)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("LEAK: ByteBuf")
                .hasMessageContaining("#6:")
                .hasMessageContaining("leakAfterSixDistinctAccesses");
    }

    @Test
    void forgetsALeakOnceItFailedATestSoTheNextClassIsNotBlamedForIt() {
        leakAfterSixDistinctAccesses();
        assertThatThrownBy(NoLeaks::assertNoLeaks).isInstanceOf(AssertionError.class);

        NoLeaks.assertNoLeaks();
        assertThat(LeakRecorder.leaks()).isEmpty();
    }

    @Test
    void registersItselfAsAJUnitExtensionService() {
        assertThat(ServiceLoader.load(Extension.class))
                .anySatisfy(extension -> assertThat(extension).isInstanceOf(NoLeaks.class));
        assertThat(LeakRecorder.isInstalled()).isTrue();
    }

    private static void leakAfterSixDistinctAccesses() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(64);
        buf.writeInt(1);
        buf.writeLong(2);
        buf.writeShort(3);
        buf.writeByte(4);
        buf.getInt(0);
        buf.readInt();
        // dropped without release
    }
}
