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
}
