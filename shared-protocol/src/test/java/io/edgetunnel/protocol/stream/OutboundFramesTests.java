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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
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

    @Test
    void isNotWritableAboveAQuarterOfItsLimitAndWakesWaitersOnceDrainedBelowHalfThat() {
        // limit 4000: high-water mark 1000, low-water mark 500
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 4000, overflow::set);
        for (int i = 0; i < 4; i++) {
            frames.send(new Frame.Data(1, Unpooled.buffer(300).writeZero(300), false));
        }
        assertThat(frames.queuedBytes()).isGreaterThan(1000);
        assertThat(frames.writable()).isFalse();
        AtomicInteger woken = new AtomicInteger();
        frames.whenWritable(woken::incrementAndGet);
        assertThat(woken).as("not while the queue is above its low-water mark").hasValue(0);

        reactor.core.publisher.BaseSubscriber<ByteBuf> writer = writerAtItsOwnPace();
        frames.frames().subscribe(writer);
        writer.request(1);
        assertThat(frames.writable()).as("below the high-water mark again").isTrue();
        assertThat(woken).as("still above the low-water mark").hasValue(0);
        writer.request(1);
        assertThat(frames.queuedBytes()).isLessThan(1000);
        writer.request(1);
        assertThat(frames.queuedBytes()).isLessThan(500);
        assertThat(woken).as("woken once, when the queue passed its low-water mark").hasValue(1);

        frames.whenWritable(woken::incrementAndGet);
        assertThat(woken).as("runs at once on a drained queue").hasValue(2);
        assertThat(overflow.get()).isNull();
        writer.request(Long.MAX_VALUE);
        frames.close();
    }

    @Test
    void aWaiterThatSendsAgainStaysParkedInsteadOfSpinning() {
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 4000, overflow::set);
        frames.send(new Frame.Data(1, Unpooled.buffer(1200).writeZero(1200), false));
        AtomicInteger runs = new AtomicInteger();
        Runnable[] refill = new Runnable[1];
        refill[0] = () -> {
            runs.incrementAndGet();
            // each wake-up fills the queue past its high-water mark again and waits once more, as a
            // body does that still has data
            frames.send(new Frame.Data(1, Unpooled.buffer(1200).writeZero(1200), false));
            if (!frames.writable()) {
                frames.whenWritable(refill[0]);
            }
        };
        frames.whenWritable(refill[0]);

        reactor.core.publisher.BaseSubscriber<ByteBuf> writer = writerAtItsOwnPace();
        frames.frames().subscribe(writer);
        writer.request(1);
        assertThat(runs).as("one wake-up per drained queue").hasValue(1);
        writer.request(1);
        assertThat(runs).hasValue(2);
        assertThat(frames.writable()).isFalse();

        frames.close();
        writer.request(Long.MAX_VALUE);
        assertThat(runs).as("closing forgets the waiter: its owner cancels the stream").hasValue(2);
        assertThat(overflow.get()).isNull();
    }

    @Test
    void aQueueAboveItsMarkThatTheWriterStopsTakingIsCutAsASlowConsumer() {
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 4000, Duration.ofMillis(200),
                overflow::set);
        reactor.core.publisher.BaseSubscriber<ByteBuf> writer = writerAtItsOwnPace();
        frames.frames().subscribe(writer);
        // far below the 4000-byte limit, but above the mark, and a body waits: the peer takes nothing
        frames.send(new Frame.Data(1, Unpooled.buffer(1200).writeZero(1200), false));
        frames.whenWritable(() -> {});

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> overflow.get() != null);
        assertThat(overflow.get().closeCode()).isEqualTo(CloseCode.SLOW_CONSUMER);
        assertThat(overflow.get().getMessage()).contains("nothing written for").contains("peer not reading");
        assertThat(frames.isClosed()).isTrue();
        writer.cancel();
    }

    @Test
    void aWaiterParkedWhileTheStalledQueueSitsBetweenItsMarksStillGetsTheTunnelCut() {
        // limit 4000: high-water mark 1000, low-water mark 500
        OutboundFrames frames = new OutboundFrames(codec, ByteBufAllocator.DEFAULT, 4000, Duration.ofMillis(200),
                overflow::set);
        reactor.core.publisher.BaseSubscriber<ByteBuf> writer = writerAtItsOwnPace();
        frames.frames().subscribe(writer);
        for (int i = 0; i < 4; i++) {
            frames.send(new Frame.Data(1, Unpooled.buffer(300).writeZero(300), false));
        }
        AtomicInteger woken = new AtomicInteger();
        frames.whenWritable(woken::incrementAndGet);
        // the peer's socket takes one more frame, then nothing: the queue is writable again (below
        // 1000) but still above 500, so the waiter stays parked, and only a cut can end its wait
        writer.request(1);
        assertThat(frames.writable()).isTrue();
        assertThat(frames.queuedBytes()).isGreaterThan(500);

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> overflow.get() != null);
        assertThat(overflow.get().closeCode()).isEqualTo(CloseCode.SLOW_CONSUMER);
        assertThat(woken).hasValue(0);
        writer.cancel();
    }

    /** A WebSocket writer that takes frames only as the test requests them, as a slow socket would. */
    private static reactor.core.publisher.BaseSubscriber<ByteBuf> writerAtItsOwnPace() {
        return new reactor.core.publisher.BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {}

            @Override
            protected void hookOnNext(ByteBuf buf) {
                buf.release();
            }
        };
    }
}
