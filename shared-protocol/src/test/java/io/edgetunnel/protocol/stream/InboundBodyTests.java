package io.edgetunnel.protocol.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

class InboundBodyTests {

    private final List<Integer> grants = new CopyOnWriteArrayList<>();
    private final AtomicInteger cancels = new AtomicInteger();
    private final LongAdder buffered = new LongAdder();

    private InboundBody body(int window) {
        return new InboundBody(1, window, grants::add, cancels::incrementAndGet, buffered);
    }

    private static ByteBuf bytes(int n) {
        return Unpooled.buffer(n).writeZero(n);
    }

    @Test
    void emitsChunksInOrderAndCompletesAtEndOfStream() {
        InboundBody body = body(1024);
        body.onData(Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8), false);
        body.onData(Unpooled.copiedBuffer("world", StandardCharsets.UTF_8), true);

        String joined = Flux.from(body)
                .map(buf -> {
                    String s = buf.toString(StandardCharsets.UTF_8);
                    buf.release();
                    return s;
                })
                .reduce(String::concat)
                .block();

        assertThat(joined).isEqualTo("hello world");
        assertThat(buffered.sum()).isZero();
    }

    @Test
    void grantsCreditOnlyWhenTheConsumerReleasesChunks() {
        InboundBody body = body(400);
        List<ByteBuf> held = new ArrayList<>();
        Flux.from(body).subscribe(held::add);

        body.onData(bytes(100), false);
        body.onData(bytes(100), false);
        assertThat(held).hasSize(2);
        assertThat(grants).as("handed over but still held: no credit yet").isEmpty();
        assertThat(buffered.sum()).isEqualTo(200);

        held.forEach(ByteBuf::release);
        assertThat(grants.stream().mapToInt(Integer::intValue).sum()).isEqualTo(200);
        assertThat(buffered.sum()).isZero();
    }

    @Test
    void rejectsDataBeyondTheGrantedWindow() {
        InboundBody body = body(100);
        body.onData(bytes(60), false);
        ByteBuf overrun = bytes(60);

        assertThatThrownBy(() -> body.onData(overrun, false))
                .isInstanceOfSatisfying(ProtocolException.class,
                        e -> assertThat(e.closeCode()).isEqualTo(CloseCode.FLOW_CONTROL_ERROR));
        assertThat(overrun.refCnt()).isZero();
        body.discard();
        assertThat(buffered.sum()).isZero();
    }

    @Test
    void acceptsMoreDataOnceCreditWasReturned() {
        InboundBody body = body(100);
        Flux.from(body).subscribe(ByteBuf::release);
        for (int i = 0; i < 50; i++) {
            body.onData(bytes(100), false);
        }
        assertThat(grants.stream().mapToInt(Integer::intValue).sum()).isEqualTo(5000);
    }

    @Test
    void cancelTellsThePeerAndReleasesQueuedAndLaterData() {
        InboundBody body = body(1000);
        ByteBuf queued = bytes(10);
        body.onData(queued, false);
        BaseSubscriber<ByteBuf> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                // no demand: the chunk stays queued
            }
        };
        Flux.from(body).subscribe(subscriber);
        subscriber.cancel();

        ByteBuf late = bytes(10);
        body.onData(late, false);

        assertThat(cancels).hasValue(1);
        assertThat(queued.refCnt()).isZero();
        assertThat(late.refCnt()).isZero();
        assertThat(buffered.sum()).isZero();
        assertThat(grants).isEmpty();
    }

    @Test
    void failDropsQueuedDataAndSignalsTheError() {
        InboundBody body = body(1000);
        ByteBuf queued = bytes(10);
        body.onData(queued, false);
        body.fail(new IllegalStateException("tunnel closed"));

        assertThatThrownBy(() -> Flux.from(body).blockLast()).hasMessageContaining("tunnel closed");
        assertThat(queued.refCnt()).isZero();
        assertThat(buffered.sum()).isZero();
    }

    @Test
    void discardReleasesEverythingWhenNobodySubscribed() {
        InboundBody body = body(1000);
        ByteBuf a = bytes(10);
        body.onData(a, false);
        body.discard();
        ByteBuf b = bytes(10);
        body.onData(b, true);

        assertThat(a.refCnt()).isZero();
        assertThat(b.refCnt()).isZero();
        assertThat(buffered.sum()).isZero();
    }

    @Test
    void allowsOnlyOneSubscriber() {
        InboundBody body = body(1000);
        Flux.from(body).subscribe();
        assertThatThrownBy(() -> Flux.from(body).blockLast()).hasMessageContaining("already subscribed");
    }

    private InboundBody growing(int window, WindowGrowth growth) {
        return new InboundBody(1, window, growth, grants::add, cancels::incrementAndGet, buffered);
    }

    /** A growth budget on a tunnel whose round trip is {@code rttNanos}. */
    private static WindowGrowth growth(int maxStreamWindow, long budget, long rttNanos) {
        WindowGrowth growth = new WindowGrowth(maxStreamWindow, budget);
        growth.roundTrip(rttNanos);
        return growth;
    }

    /** A round trip so long that any drain in these tests is fast: the window is always the limit. */
    private static final long LONG_RTT = 1_000_000_000L;

    /** Acts as a sender that always uses all its credit: returns the credit left after {@code rounds}. */
    private int sendAllCredit(InboundBody body, int credit, int rounds) {
        for (int round = 0; round < rounds; round++) {
            int before = grants.size();
            body.onData(bytes(credit), false);
            credit = 0;
            for (int i = before; i < grants.size(); i++) {
                credit += grants.get(i);
            }
        }
        return credit;
    }

    @Test
    void aStreamLimitedByItsWindowDoublesItUpToTheMaximum() {
        WindowGrowth growth = growth(4096, 1 << 20, LONG_RTT);
        InboundBody body = growing(1024, growth);
        Flux.from(body).subscribe(ByteBuf::release);

        int credit = sendAllCredit(body, 1024, 1);
        assertThat(body.window()).isEqualTo(2048);
        assertThat(credit).as("the drained 1024 bytes plus 1024 of growth").isEqualTo(2048);

        credit = sendAllCredit(body, credit, 4);
        assertThat(body.window()).as("capped at the maximum").isEqualTo(4096);
        assertThat(credit).isEqualTo(4096);
        assertThat(growth.inUse()).isEqualTo(3072);

        // the grown window is exactly what the peer may send: one byte more is a flow-control error
        ByteBuf overrun = bytes(credit + 1);
        assertThatThrownBy(() -> body.onData(overrun, false))
                .isInstanceOfSatisfying(ProtocolException.class,
                        e -> assertThat(e.closeCode()).isEqualTo(CloseCode.FLOW_CONTROL_ERROR));
    }

    @Test
    void theGrowthGoesBackToTheBudgetWhenTheBodyEnds() {
        WindowGrowth growth = growth(4096, 1 << 20, LONG_RTT);
        InboundBody body = growing(1024, growth);
        List<Boolean> completed = new ArrayList<>();
        Flux.from(body).subscribe(ByteBuf::release, e -> { }, () -> completed.add(true));
        sendAllCredit(body, 1024, 3);
        assertThat(growth.inUse()).isPositive();

        body.complete();

        assertThat(completed).containsExactly(true);
        assertThat(growth.inUse()).isZero();
    }

    @Test
    void aCancelledBodyGivesItsGrowthBack() {
        WindowGrowth growth = growth(4096, 1 << 20, LONG_RTT);
        InboundBody body = growing(1024, growth);
        reactor.core.Disposable subscription = Flux.from(body).subscribe(ByteBuf::release);
        sendAllCredit(body, 1024, 3);
        assertThat(growth.inUse()).isPositive();

        subscription.dispose();

        assertThat(growth.inUse()).isZero();
    }

    @Test
    void aConsumerThatFallsBehindNeverGrowsTheWindow() {
        WindowGrowth growth = growth(1 << 20, 1 << 20, LONG_RTT);
        InboundBody body = growing(1024, growth);
        List<ByteBuf> held = new ArrayList<>();
        BaseSubscriber<ByteBuf> oneAtATime = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(1);
            }

            @Override
            protected void hookOnNext(ByteBuf buf) {
                held.add(buf);
            }
        };
        Flux.from(body).subscribe(oneAtATime);
        for (int i = 0; i < 4; i++) {
            body.onData(bytes(256), false);
        }
        // the consumer takes and releases one chunk at a time while the rest waits queued here
        for (int i = 0; i < 3; i++) {
            held.remove(0).release();
            oneAtATime.request(1);
        }

        assertThat(grants.stream().mapToInt(Integer::intValue).sum()).as("exactly what was drained").isEqualTo(768);
        assertThat(body.window()).isEqualTo(1024);
        assertThat(growth.inUse()).isZero();
        held.forEach(ByteBuf::release);
    }

    @Test
    void theTunnelBudgetCapsWhatAllStreamsGrowBy() {
        WindowGrowth growth = growth(1 << 20, 1024, LONG_RTT);
        InboundBody first = growing(1024, growth);
        Flux.from(first).subscribe(ByteBuf::release);
        sendAllCredit(first, 1024, 3);
        assertThat(first.window()).isEqualTo(2048);
        assertThat(growth.inUse()).isEqualTo(1024);

        grants.clear();
        InboundBody second = new InboundBody(3, 1024, growth, grants::add, () -> { }, buffered);
        Flux.from(second).subscribe(ByteBuf::release);
        sendAllCredit(second, 1024, 3);
        assertThat(second.window()).as("the budget is spent").isEqualTo(1024);

        first.complete();
        sendAllCredit(second, 1024, 1);
        assertThat(second.window()).as("growth the first stream gave back").isEqualTo(2048);
        assertThat(growth.inUse()).isEqualTo(1024);
    }

    @Test
    void withoutARoundTripMeasurementNothingGrows() {
        WindowGrowth growth = new WindowGrowth(4096, 1 << 20);
        InboundBody body = growing(1024, growth);
        Flux.from(body).subscribe(ByteBuf::release);

        assertThat(sendAllCredit(body, 1024, 4)).isEqualTo(1024);
        assertThat(body.window()).isEqualTo(1024);
    }

    @Test
    void aStreamThatTakesManyRoundTripsPerWindowIsNotLimitedByItAndDoesNotGrow() {
        // a 1 ns round trip: however fast these chunks come, a window lasts far longer than two of them
        WindowGrowth growth = growth(4096, 1 << 20, 1);
        InboundBody body = growing(1024, growth);
        Flux.from(body).subscribe(ByteBuf::release);

        assertThat(sendAllCredit(body, 1024, 4)).isEqualTo(1024);
        assertThat(body.window()).isEqualTo(1024);
        assertThat(growth.inUse()).isZero();
    }

    @Test
    void theLeastRoundTripCountsSoAQueuedPongCannotInflateIt() {
        WindowGrowth growth = new WindowGrowth(4096, 1024);
        assertThat(growth.rttNanos()).isZero();
        growth.roundTrip(800);
        growth.roundTrip(1600);
        growth.roundTrip(-5);
        assertThat(growth.rttNanos()).isEqualTo(800);

        growth.roundTrip(500);
        assertThat(growth.rttNanos()).isEqualTo(500);
    }

    @Test
    void theGrowthStaysTakenWhileTheEndedStreamsBytesAreStillHeld() {
        WindowGrowth growth = growth(4096, 1 << 20, LONG_RTT);
        InboundBody body = growing(1024, growth);
        List<ByteBuf> held = new ArrayList<>();
        Flux.from(body).subscribe(buf -> {
            if (held.isEmpty() && buf.readableBytes() == 7) {
                held.add(buf);
            } else {
                buf.release();
            }
        });
        sendAllCredit(body, 1024, 2);
        long grownBy = growth.inUse();
        assertThat(grownBy).isPositive();

        // the last chunk is still in the writer's hands when the body completes
        body.onData(bytes(7), true);
        assertThat(held).hasSize(1);
        assertThat(growth.inUse()).as("a writer still holds bytes of the stream").isEqualTo(grownBy);

        held.get(0).release();
        assertThat(growth.inUse()).isZero();
    }
}
