package io.edgetunnel.protocol.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolLimits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

class OutboundFramesTests {

    private final FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);
    private final AtomicReference<ProtocolException> overflow = new AtomicReference<>();

    @Test
    void keepsFramesSentBeforeTheWriterSubscribes() {
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 1 << 20, overflow::set);
        frames.send(new Frame.Ping(1));
        frames.send(new Frame.Ping(2));
        frames.close();

        List<Frame> decoded = frames.frames()
                .map(buf -> {
                    Frame frame = codec.decode(buf);
                    buf.release();
                    return frame;
                })
                .collectList()
                .block();

        assertThat(decoded).containsExactly(new Frame.Ping(1), new Frame.Ping(2));
        assertThat(frames.queuedBytes()).isZero();
    }

    @Test
    void manyThreadsMaySendAtOnceWithoutLosingFrames() {
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 1 << 30, overflow::set);
        Flux.range(0, 8)
                .parallel(8)
                .runOn(Schedulers.parallel())
                .doOnNext(t -> {
                    for (int i = 0; i < 1000; i++) {
                        frames.send(new Frame.Ping(t * 1000L + i));
                    }
                })
                .sequential()
                .blockLast();
        frames.close();

        long count = frames.frames().doOnNext(ByteBuf::release).count().block();

        assertThat(count).isEqualTo(8000);
    }

    @Test
    void reportsSlowConsumerOnceTheQueuePassesItsLimitAndDropsLaterData() {
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 1024, overflow::set);
        frames.send(new Frame.Data(1, Unpooled.buffer(2000).writeZero(2000), false));
        ByteBuf late = Unpooled.buffer(10).writeZero(10);
        frames.send(new Frame.Data(1, late, false));

        assertThat(overflow.get()).isNotNull();
        assertThat(overflow.get().closeCode()).isEqualTo(CloseCode.SLOW_CONSUMER);
        assertThat(late.refCnt()).isZero();
        frames.frames().doOnNext(ByteBuf::release).subscribe().dispose();
    }

    @Test
    void releasesQueuedFramesWhenTheWriterCancels() {
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 1 << 20, overflow::set);
        ByteBuf body = Unpooled.buffer(100).writeZero(100);
        frames.send(new Frame.Data(1, body, false));

        frames.frames().subscribe(new reactor.core.publisher.BaseSubscriber<ByteBuf>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {
                // the WebSocket closes before anything is written
                cancel();
            }
        });
        ByteBuf after = Unpooled.buffer(10).writeZero(10);
        frames.send(new Frame.Data(1, after, false));

        assertThat(body.refCnt()).isZero();
        assertThat(after.refCnt()).isZero();
        assertThat(frames.queuedBytes()).isZero();
    }
}
