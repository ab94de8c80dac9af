package io.edgetunnel.protocol.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The session core's rules, each run against both roles where the rule is the same for both: what
 * the ingress (opener) and the agent (acceptor) used to do each their own way.
 */
class TunnelConnectionTests {

    private static final Duration QUIET = Duration.ofMillis(200);

    @ParameterizedTest
    @EnumSource(Role.class)
    void closeReasonIsCutByUtf8BytesNeverInsideACharacter(Role role) {
        try (ConnectionHarness h = new ConnectionHarness(role).opened()) {
            String reason = "é".repeat(61) + "x".repeat(50); // 122 bytes of é, then more
            h.connection.close(CloseCode.PROTOCOL_ERROR, reason);

            String sent = h.connection.closeReason();
            assertThat(sent.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(CloseReasons.MAX_BYTES);
            assertThat(reason).startsWith(sent);
            assertThat(sent).doesNotContain("\uFFFD").hasSize(60);
            assertThat(h.connection.closeCode()).isEqualTo(CloseCode.PROTOCOL_ERROR);
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void dataAfterEndStreamResetsTheStream(Role role) throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(role).opened()) {
            ConnectionHarness.Recording handler = remoteDirectionOpen(h);
            int id = handler.stream.id();
            h.deliver(new Frame.Data(id, Unpooled.wrappedBuffer(new byte[] {1}), true));
            h.deliver(new Frame.Data(id, Unpooled.wrappedBuffer(new byte[] {2}), false));

            assertThat(nextReset(h)).isEqualTo(new Frame.Reset(id, ResetCode.PROTOCOL_ERROR,
                    "DATA after END_STREAM on stream " + id));
            assertThat(handler.awaitEnd()).isInstanceOf(StreamEnd.LocalReset.class);
            assertThat(handler.stream.state()).isEqualTo(TunnelStream.State.RESET);
            assertThat(h.connection.isClosing()).as("a stream error, not a connection error").isFalse();
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void dataBeforeTheFirstFrameOfItsDirectionResetsTheStream(Role role) throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(role).opened()) {
            if (role == Role.ACCEPTOR) {
                // the acceptor's streams begin with the peer's REQUEST: there is no "before" to test
                return;
            }
            ConnectionHarness.Recording handler = h.new Recording();
            TunnelStream stream = open(h, handler, false);
            h.deliver(new Frame.Data(stream.id(), Unpooled.wrappedBuffer(new byte[] {1}), false));

            assertThat(nextReset(h).code()).isEqualTo(ResetCode.PROTOCOL_ERROR);
        }
    }

    /** Protocol 7.2: a second RESPONSE resets the stream; 7.1: a second REQUEST for an open id closes 4005. */
    @ParameterizedTest
    @EnumSource(Role.class)
    void aSecondFirstFrameOnAnOpenStreamIsRefused(Role role) throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(role).opened()) {
            ConnectionHarness.Recording handler = remoteDirectionOpen(h);
            int id = handler.stream.id();
            if (role == Role.OPENER) {
                h.deliver(new Frame.Response(id, 500, List.of(), true));
                assertThat(nextReset(h)).isEqualTo(new Frame.Reset(id, ResetCode.PROTOCOL_ERROR,
                        "a second RESPONSE on stream " + id));
                assertThat(handler.events).filteredOn(Frame.Response.class::isInstance).hasSize(1);
            } else {
                h.deliver(new Frame.Request(id, "GET", "/", "a.test", "/", List.of(), true));
                await().until(h.connection::isClosing);
                assertThat(h.connection.closeCode()).isEqualTo(CloseCode.STREAM_ERROR);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void lateFramesForAnEndedStreamAreDiscardedSilently(Role role) throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(role).opened()) {
            ConnectionHarness.Recording handler = remoteDirectionOpen(h);
            int id = handler.stream.id();
            assertThat(handler.stream.reset(ResetCode.CANCEL, "test cancels")).isTrue();
            assertThat(handler.stream.reset(ResetCode.CANCEL, "again")).as("ends once").isFalse();
            assertThat(nextReset(h).code()).isEqualTo(ResetCode.CANCEL);

            h.deliver(new Frame.Data(id, Unpooled.wrappedBuffer(new byte[] {1}), false));
            h.deliver(new Frame.Reset(id, ResetCode.CANCEL, "crossed on the wire"));
            h.deliver(new Frame.WindowUpdate(id, 100));
            h.sync();

            assertThat(h.next(QUIET)).as("never a RESET answering a RESET, nor anything else").isNull();
            assertThat(h.connection.isClosing()).isFalse();
            assertThat(h.connection.activeStreams()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void aBodyMadeAfterTheStreamEndedIsCancelledAndSendsNothing(Role role) throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(role).opened()) {
            ConnectionHarness.Recording handler = remoteDirectionOpen(h);
            assertThat(handler.stream.reset(ResetCode.CANCEL, "reset from another thread first")).isTrue();
            assertThat(nextReset(h).code()).isEqualTo(ResetCode.CANCEL);

            // a handler that answers late (a splice relaying a RESPONSE that crossed the reset)
            java.util.concurrent.atomic.AtomicBoolean sourceCancelled = new java.util.concurrent.atomic.AtomicBoolean();
            io.edgetunnel.protocol.stream.OutboundBody body = handler.stream.newBody(
                    new io.edgetunnel.protocol.stream.OutboundBody.Listener() {
                        @Override
                        public void onComplete() {}

                        @Override
                        public void onError(Throwable cause) {}
                    }, java.util.List::of);
            reactor.core.publisher.Flux.<io.netty.buffer.ByteBuf>never()
                    .doOnCancel(() -> sourceCancelled.set(true))
                    .subscribe(body);

            assertThat(sourceCancelled).as("its source is cancelled, never left waiting for credit").isTrue();
            h.sync();
            assertThat(h.next(QUIET)).as("nothing goes out for the ended stream").isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void streamsLearnOfTheCloseOnTheEventLoopWithTheirBodiesSet(Role role) throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(role).opened()) {
            ConnectionHarness.Recording handler = remoteDirectionOpen(h);

            // from a foreign thread, as the heartbeat or the stall check close a tunnel
            h.connection.close(CloseCode.HEARTBEAT_TIMEOUT, "test");

            assertThat(handler.awaitEnd()).isInstanceOf(StreamEnd.TunnelClosed.class);
            assertThat(handler.endOnLoop).as("onEnd on the connection's event loop").isTrue();
            assertThat(handler.inboundSetAtEnd).as("the body exists before any callback").isTrue();
            assertThat(handler.stream.state()).isEqualTo(TunnelStream.State.RESET);
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void theMissedHeartbeatLimitIsTheConfiguredOne(Role role) {
        SessionLimits limits = new SessionLimits(2, 16L * 1024 * 1024, Duration.ofHours(1));
        try (ConnectionHarness h = new ConnectionHarness(role, limits).opened(Duration.ofMillis(50))) {
            await().atMost(Duration.ofSeconds(30)).until(h.connection::isClosing);
            assertThat(h.connection.closeCode()).isEqualTo(CloseCode.HEARTBEAT_TIMEOUT);
            assertThat(h.connection.closeReason()).contains("for 100 ms");
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void theQueueCapIsTheConfiguredOne(Role role) {
        SessionLimits limits = new SessionLimits(3, 64, Duration.ofHours(1));
        try (ConnectionHarness h = new ConnectionHarness(role, limits).opened()) {
            h.connection.send(new Frame.Drain("x".repeat(100)));

            await().until(h.connection::isClosing);
            assertThat(h.connection.closeCode()).isEqualTo(CloseCode.SLOW_CONSUMER);
            assertThat(h.forceClosed.get()).as("a slow consumer is dropped at once").isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void theCloseBackstopIsTheConfiguredOne(Role role) {
        try (ConnectionHarness slow = new ConnectionHarness(role, new SessionLimits(3, 1 << 20, Duration.ofHours(1)));
                ConnectionHarness fast = new ConnectionHarness(role, new SessionLimits(3, 1 << 20, Duration.ofMillis(20)))) {
            slow.connection.close(CloseCode.NORMAL, "done");
            fast.connection.close(CloseCode.NORMAL, "done");

            await().until(() -> fast.forceClosed.get() == 1);
            assertThat(slow.forceClosed.get()).isZero();
        }
    }

    @Test
    void theAcceptorsDrainSettlesWithTheBarrierPong() throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(Role.ACCEPTOR).opened()) {
            h.connection.drain("agent stopping");
            assertThat(h.next()).isEqualTo(new Frame.Drain("agent stopping"));
            assertThat(h.next()).isEqualTo(new Frame.Ping(TunnelConnection.DRAIN_BARRIER));
            assertThat(h.connection.drainSettled()).isFalse();

            h.deliver(new Frame.Pong(TunnelConnection.DRAIN_BARRIER));
            h.sync();
            assertThat(h.connection.drainSettled()).isTrue();
            assertThat(h.sideEvents).contains("idle");
        }
    }

    @Test
    void theOpenerAnswersTheBarrierOnlyBehindTheRequestsOfStreamsOpenedBefore() throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(Role.OPENER).opened()) {
            TunnelStream stream = open(h, h.new Recording(), true);
            h.deliver(new Frame.Drain("agent stopping"));
            h.deliver(new Frame.Ping(TunnelConnection.DRAIN_BARRIER));

            assertThat(h.next()).isInstanceOf(Frame.Request.class).extracting(Frame::streamId).isEqualTo(stream.id());
            assertThat(h.next()).isEqualTo(new Frame.Pong(TunnelConnection.DRAIN_BARRIER));
            assertThat(open(h, h.new Recording(), true)).as("no stream after the peer's Drain").isNull();
        }
    }

    @Test
    void theOpenersOwnDrainNeverOvertakesARequest() throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(Role.OPENER).opened()) {
            open(h, h.new Recording(), true);
            h.connection.drain("scale-in");

            assertThat(h.next()).isInstanceOf(Frame.Request.class);
            assertThat(h.next()).isEqualTo(new Frame.Drain("scale-in"));
        }
    }

    @Test
    void aStreamAdmittedBeforeThePeersDrainButQueuedAfterItNeverGoesOut() throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(Role.OPENER).opened()) {
            AtomicBoolean go = new AtomicBoolean();
            h.loop.execute(() -> {
                // holds the loop (a busy wait: parking is forbidden there) so the next tasks queue in a known order
                while (!go.get()) {
                    assertThat(go).isNotNull();
                }
            });
            h.deliver(new Frame.Drain("agent stopping"));
            ConnectionHarness.Recording handler = h.new Recording();
            TunnelStream stream = open(h, handler, true);
            go.set(true);

            assertThat(stream).isNotNull();
            assertThat(handler.awaitEnd()).isEqualTo(new StreamEnd.TunnelClosed("tunnel draining", false));
            h.sync();
            assertThat(h.next(QUIET)).isNull();
            assertThat(h.connection.activeStreams()).isZero();
        }
    }

    @Test
    void theOpenerClosesOnFramesForAStreamItNeverOpened() throws Exception {
        try (ConnectionHarness h = new ConnectionHarness(Role.OPENER).opened()) {
            h.deliver(new Frame.WindowUpdate(7, 10));
            await().until(h.connection::isClosing);
            assertThat(h.connection.closeCode()).isEqualTo(CloseCode.STREAM_ERROR);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A stream whose peer direction has started and carries a body. */
    private static ConnectionHarness.Recording remoteDirectionOpen(ConnectionHarness h) throws Exception {
        if (h.connection.role() == Role.OPENER) {
            ConnectionHarness.Recording handler = h.new Recording();
            TunnelStream stream = open(h, handler, true);
            assertThat(h.next()).isInstanceOf(Frame.Request.class);
            h.deliver(new Frame.Response(stream.id(), 200, List.of(), false));
            h.sync();
            return handler;
        }
        h.deliver(new Frame.Request(1, "POST", "/", "a.test", "/", List.of(), false));
        TunnelStream stream = h.accepted.poll(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(stream).isNotNull();
        h.sync();
        return (ConnectionHarness.Recording) handlerOf(stream);
    }

    private static StreamHandler handlerOf(TunnelStream stream) {
        return stream.handler();
    }

    private static TunnelStream open(ConnectionHarness h, ConnectionHarness.Recording handler, boolean endStream) {
        return h.connection.openStream(
                id -> new Frame.Request(id, "GET", "/", "a.test", "/", List.of(), endStream),
                stream -> {
                    handler.stream = stream;
                    return handler;
                });
    }

    private static Frame.Reset nextReset(ConnectionHarness h) throws InterruptedException {
        while (true) {
            Frame frame = h.next();
            if (frame instanceof Frame.Reset reset) {
                return reset;
            }
        }
    }
}
