package io.edgetunnel.runtime.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;

/** Buffers written in batches, in order, one flush per batch; nothing left unreleased on failure. */
class SocketWriterTests {

    @Test
    void buffersThatArriveTogetherGoOutInOrderWithOneFlush() {
        AtomicInteger flushes = new AtomicInteger();
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
                flushes.incrementAndGet();
                ctx.flush();
            }
        });
        AtomicLong written = new AtomicLong();
        SocketWriter writer = new SocketWriter(channel, written, () -> { }, () -> { });
        writer.onSubscribe(noop());
        writer.onNext(buf("one "));
        writer.onNext(buf("two "));
        writer.onNext(buf("three"));
        channel.runPendingTasks();

        assertThat(flushes).hasValue(1);
        List<String> out = new ArrayList<>();
        ByteBuf part;
        while ((part = channel.readOutbound()) != null) {
            out.add(part.toString(StandardCharsets.US_ASCII));
            part.release();
        }
        assertThat(out).containsExactly("one ", "two ", "three");
        assertThat(written).hasValue(13);

        writer.onNext(buf("four"));
        channel.runPendingTasks();
        assertThat(flushes).hasValue(2);
        assertThat(channel.finishAndReleaseAll()).isTrue();
    }

    @Test
    void aFailedSourceResetsAndReleasesWhatWasNotWritten() {
        EmbeddedChannel channel = new EmbeddedChannel();
        AtomicInteger resets = new AtomicInteger();
        SocketWriter writer = new SocketWriter(channel, new AtomicLong(), () -> { }, resets::incrementAndGet);
        writer.onSubscribe(noop());
        ByteBuf pending = buf("never written");
        writer.onNext(pending);
        writer.onError(new IllegalStateException("stream reset"));
        channel.runPendingTasks();

        assertThat(resets).hasValue(1);
        assertThat(pending.refCnt()).isZero();
        assertThat((Object) channel.readOutbound()).isNull();
        channel.finishAndReleaseAll();
    }

    private static ByteBuf buf(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
    }

    private static Subscription noop() {
        return new Subscription() {
            @Override
            public void request(long n) {
            }

            @Override
            public void cancel() {
            }
        };
    }
}
