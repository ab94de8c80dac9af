package io.edgetunnel.protocol.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.publisher.TestPublisher;

class OutboundBodyTests {

    private final List<Frame> sent = new CopyOnWriteArrayList<>();
    private final AtomicInteger completions = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private final OutboundBody.Listener listener = new OutboundBody.Listener() {
        @Override
        public void onComplete() {
            completions.incrementAndGet();
        }

        @Override
        public void onError(Throwable cause) {
            failure.set(cause);
        }
    };

    @AfterEach
    void releaseSentData() {
        for (Frame frame : sent) {
            if (frame instanceof Frame.Data data) {
                data.content().release();
            }
        }
    }

    private int dataBytes() {
        return sent.stream()
                .filter(f -> f instanceof Frame.Data)
                .mapToInt(f -> ((Frame.Data) f).content().readableBytes())
                .sum();
    }

    @Test
    void splitsIntoChunksNoLargerThanMaxChunkAndEndsTheStreamOnTheLastChunk() {
        OutboundBody body = new OutboundBody(3, 1_000_000, 100, sent::add, listener);
        Flux.just(Unpooled.buffer(250).writeZero(250)).subscribe(body);

        assertThat(sent).hasSize(3);
        assertThat(sent).allSatisfy(f -> assertThat(((Frame.Data) f).content().readableBytes()).isLessThanOrEqualTo(100));
        assertThat(sent.subList(0, 2)).noneMatch(f -> ((Frame.Data) f).endStream());
        Frame.Data last = (Frame.Data) sent.get(2);
        assertThat(last.endStream()).as("a body that ends with its last chunk needs no extra frame").isTrue();
        assertThat(last.content().readableBytes()).isEqualTo(50);
        assertThat(dataBytes()).isEqualTo(250);
        assertThat(completions).hasValue(1);
    }

    @Test
    void onAnEventLoopTheEndLearntInTheSameTaskRidesOnTheLastChunk() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            TestPublisher<ByteBuf> source = TestPublisher.create();
            OutboundBody body = new OutboundBody(1, 1000, 1000, sent::add, listener);
            loop.submit(() -> {
                        source.flux().subscribe(body);
                        // as Reactor Netty delivers a small response: its last content, then the end
                        source.next(Unpooled.buffer(10).writeZero(10));
                        source.complete();
                    })
                    .get(5, TimeUnit.SECONDS);
            loop.submit(() -> {}).get(5, TimeUnit.SECONDS);

            assertThat(sent).hasSize(1);
            Frame.Data only = (Frame.Data) sent.get(0);
            assertThat(only.endStream()).isTrue();
            assertThat(only.content().readableBytes()).isEqualTo(10);
            assertThat(completions).hasValue(1);
        } finally {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    @Test
    void onAnEventLoopAChunkWhoseEndIsNotKnownGoesOnceTheTaskIsOver() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            TestPublisher<ByteBuf> source = TestPublisher.create();
            OutboundBody body = new OutboundBody(1, 1000, 1000, sent::add, listener);
            int sentInTask = loop.submit(() -> {
                        source.flux().subscribe(body);
                        source.next(Unpooled.buffer(10).writeZero(10));
                        return sent.size();
                    })
                    .get(5, TimeUnit.SECONDS);
            loop.submit(() -> {}).get(5, TimeUnit.SECONDS);

            assertThat(sentInTask).as("held while the task runs").isZero();
            assertThat(sent).as("a server-sent event must not wait for the next one").hasSize(1);
            assertThat(((Frame.Data) sent.get(0)).endStream()).isFalse();

            loop.submit(source::complete).get(5, TimeUnit.SECONDS);
            assertThat(sent).hasSize(2);
            assertThat(((Frame.Data) sent.get(1)).endStream()).isTrue();
        } finally {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    @Test
    void sendsEachChunkAtOnceWhenTheEndIsNotKnownYet() {
        TestPublisher<ByteBuf> source = TestPublisher.create();
        OutboundBody body = new OutboundBody(1, 1000, 1000, sent::add, listener);
        source.flux().subscribe(body);

        source.next(Unpooled.buffer(10).writeZero(10));
        assertThat(sent).as("a server-sent event must not wait for the next one").hasSize(1);
        assertThat(((Frame.Data) sent.get(0)).endStream()).isFalse();

        source.complete();
        assertThat(sent).hasSize(2);
        Frame.Data end = (Frame.Data) sent.get(1);
        assertThat(end.endStream()).isTrue();
        assertThat(end.content().readableBytes()).isZero();
    }

    @Test
    void neverSendsBeyondCreditAndStopsRequestingFromTheSource() {
        TestPublisher<ByteBuf> source = TestPublisher.createNoncompliant(TestPublisher.Violation.CLEANUP_ON_TERMINATE);
        OutboundBody body = new OutboundBody(1, 150, 1000, sent::add, listener);
        source.flux().subscribe(body);

        source.assertMinRequested(1);
        source.next(Unpooled.buffer(100).writeZero(100));
        source.next(Unpooled.buffer(100).writeZero(100));
        assertThat(dataBytes()).isEqualTo(150);
        source.assertMaxRequested(2);

        body.addCredit(50);
        assertThat(dataBytes()).isEqualTo(200);
        source.complete();
        assertThat(completions).as("end stream waits for nothing but the source").hasValue(1);
    }

    /** A tunnel queue whose writability the test sets; wake-ups wait until it says so. */
    private final class PacedSink implements FrameSink {
        volatile boolean writable = true;
        final List<Runnable> waiters = new CopyOnWriteArrayList<>();

        @Override
        public void send(Frame frame) {
            sent.add(frame);
        }

        @Override
        public boolean writable() {
            return writable;
        }

        @Override
        public void whenWritable(Runnable task) {
            waiters.add(task);
        }

        void drained() {
            writable = true;
            List<Runnable> due = List.copyOf(waiters);
            waiters.clear();
            due.forEach(Runnable::run);
        }
    }

    @Test
    void parksWhileTheTunnelQueueIsNotWritableAndResumesOnceItDrained() {
        PacedSink sink = new PacedSink();
        TestPublisher<ByteBuf> source = TestPublisher.createNoncompliant(TestPublisher.Violation.CLEANUP_ON_TERMINATE);
        OutboundBody body = new OutboundBody(1, 1_000_000, 100, sink, listener);
        sink.writable = false;
        source.flux().subscribe(body);

        source.assertMaxRequested(0);
        assertThat(sink.waiters).as("registered once to be woken").hasSize(1);
        body.addCredit(10);
        assertThat(sink.waiters).as("still once, however often it drains meanwhile").hasSize(1);

        sink.drained();
        source.assertMinRequested(1);
        // a buffer larger than one chunk: the queue fills up after the first chunk
        sink.writable = true;
        source.next(Unpooled.buffer(250).writeZero(250));
        assertThat(dataBytes()).isEqualTo(250);
        sink.writable = false;
        source.next(Unpooled.buffer(250).writeZero(250));
        assertThat(dataBytes()).as("nothing more while the queue is full").isEqualTo(250);
        assertThat(sink.waiters).hasSize(1);

        sink.drained();
        assertThat(dataBytes()).isEqualTo(500);
        source.complete();
        assertThat(completions).hasValue(1);
        assertThat(((Frame.Data) sent.get(sent.size() - 1)).endStream()).isTrue();
    }

    @Test
    void sourceErrorIsReportedWithoutEndOfStream() {
        OutboundBody body = new OutboundBody(1, 1000, 1000, sent::add, listener);
        Flux.<ByteBuf>error(new IllegalStateException("local app failed")).subscribe(body);

        assertThat(failure.get()).hasMessage("local app failed");
        assertThat(sent).noneMatch(f -> f instanceof Frame.Data d && d.endStream());
    }

    @Test
    void cancelCancelsTheSourceAndReleasesTheHeldBuffer() {
        TestPublisher<ByteBuf> source = TestPublisher.create();
        OutboundBody body = new OutboundBody(1, 10, 1000, sent::add, listener);
        source.flux().subscribe(body);
        ByteBuf big = Unpooled.buffer(100).writeZero(100);
        source.next(big);

        body.cancel();
        releaseSentData();
        sent.clear();

        source.assertCancelled();
        assertThat(big.refCnt()).as("only the sent slice held it").isZero();
        assertThat(completions).hasValue(0);
    }

    @Test
    void recordModeSendsEachBufferAsOneFrameOnlyOnceTheCreditCoversIt() {
        OutboundBody body = OutboundBody.records(5, 150, 1000, sent::add, listener);
        TestPublisher<ByteBuf> source = TestPublisher.create();
        source.subscribe(body);

        source.next(Unpooled.buffer(100).writeZero(100));
        source.next(Unpooled.buffer(100).writeZero(100));
        assertThat(sent).hasSize(1);
        assertThat(dataBytes()).as("the second record does not fit the 50 bytes of credit left").isEqualTo(100);

        body.addCredit(49);
        assertThat(sent).as("99 bytes of credit still do not cover a 100-byte record").hasSize(1);

        source.complete();
        body.addCredit(1);
        assertThat(sent).hasSize(2);
        assertThat(((Frame.Data) sent.get(1)).content().readableBytes()).isEqualTo(100);
        assertThat(((Frame.Data) sent.get(1)).endStream()).isTrue();
        assertThat(completions).hasValue(1);
    }

    @Test
    void recordModeFailsOnARecordLargerThanOneFrame() {
        OutboundBody body = OutboundBody.records(5, 10_000, 100, sent::add, listener);
        ByteBuf oversized = Unpooled.buffer(101).writeZero(101);
        Flux.just(oversized).subscribe(body);

        assertThat(sent).isEmpty();
        assertThat(failure.get()).hasMessageContaining("record of 101 bytes (expected: <= 100)");
        assertThat(oversized.refCnt()).isZero();
    }

    @Test
    void endsWithTrailersInsteadOfEndStreamWhenTheSourceHasThem() {
        List<Header> fields = List.of(new Header("grpc-status", "0"), new Header("grpc-message", ""));
        OutboundBody body = new OutboundBody(5, 1_000_000, 100, sent::add, listener, () -> fields);
        Flux.just(Unpooled.buffer(10).writeZero(10)).subscribe(body);

        assertThat(sent).hasSize(2);
        Frame.Data data = (Frame.Data) sent.get(0);
        assertThat(data.endStream()).as("the trailers end the direction, not the DATA").isFalse();
        assertThat(data.content().readableBytes()).isEqualTo(10);
        assertThat(sent.get(1)).isEqualTo(new Frame.Trailers(5, fields));
        assertThat(completions).hasValue(1);
    }

    @Test
    void anEmptyBodyWithTrailersSendsOnlyTheTrailers() {
        List<Header> fields = List.of(new Header("x-checksum", "abc"));
        OutboundBody body = new OutboundBody(7, 1_000_000, 100, sent::add, listener, () -> fields);
        Flux.<ByteBuf>empty().subscribe(body);

        assertThat(sent).containsExactly(new Frame.Trailers(7, fields));
        assertThat(completions).hasValue(1);
    }

    @Test
    void noTrailersMeansEndStreamOnData() {
        OutboundBody body = new OutboundBody(9, 1_000_000, 100, sent::add, listener, List::of);
        Flux.just(Unpooled.buffer(4).writeZero(4)).subscribe(body);

        assertThat(sent).hasSize(1);
        assertThat(((Frame.Data) sent.get(0)).endStream()).isTrue();
    }

    @Test
    void aFailingSourceNeverAsksForTrailers() {
        AtomicInteger asked = new AtomicInteger();
        OutboundBody body = new OutboundBody(11, 1_000_000, 100, sent::add, listener, () -> {
            asked.incrementAndGet();
            return List.of(new Header("grpc-status", "0"));
        });
        Flux.<ByteBuf>error(new IllegalStateException("app failed")).subscribe(body);

        assertThat(asked).hasValue(0);
        assertThat(sent).noneMatch(f -> f instanceof Frame.Trailers);
        assertThat(failure.get()).isInstanceOf(IllegalStateException.class);
    }
}
