package io.edgetunnel.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LeakTrailTests {

    private static final String REPORT = """
            LEAK: ByteBuf.release() was not called before it's garbage-collected.
            Recent access records:\s
            #1:
            \tio.netty.buffer.AdvancedLeakAwareByteBuf.release(AdvancedLeakAwareByteBuf.java:1)
            \tio.netty.util.ReferenceCountUtil.release(ReferenceCountUtil.java:2)
            \tio.edgetunnel.protocol.stream.InboundBody.onData(InboundBody.java:3)
            \tio.edgetunnel.protocol.session.TunnelStream.receive(TunnelStream.java:4)
            \tio.edgetunnel.protocol.session.StreamTable.dispatch(StreamTable.java:5)
            \tio.edgetunnel.protocol.session.FrameIntake.onFrame(FrameIntake.java:6)
            \tio.edgetunnel.protocol.session.FrameIntake.receive(FrameIntake.java:7)
            #2:
            \tHint: 'reactor.left.wsFrameAggregator' will handle the message from this point.
            \tio.netty.channel.DefaultChannelPipeline.touch(DefaultChannelPipeline.java:115)
            Created at:
            \tio.netty.buffer.AdaptiveByteBufAllocator.newDirectBuffer(AdaptiveByteBufAllocator.java:67)
            \tio.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder.decode(WebSocket08FrameDecoder.java:314)
            """;

    @Test
    void keepsEachRecordsHintAndItsFirstFramesOutsideNettyPlumbing() {
        String compact = LeakTrail.compact(REPORT);

        assertThat(compact).contains("#1:", "#2:", "Created at:", "InboundBody.onData", "TunnelStream.receive",
                "Hint: 'reactor.left.wsFrameAggregator'", "WebSocket08FrameDecoder.decode");
        assertThat(compact).doesNotContain("AdvancedLeakAwareByteBuf", "ReferenceCountUtil", "DefaultChannelPipeline");
        // four frames per record: the fifth of #1 is cut
        assertThat(compact).doesNotContain("FrameIntake.receive");
    }
}
