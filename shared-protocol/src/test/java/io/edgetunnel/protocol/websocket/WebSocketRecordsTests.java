package io.edgetunnel.protocol.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

class WebSocketRecordsTests {

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    @Test
    void textFrameBecomesOneRecordWithFinAndOpcode() {
        List<ByteBuf> records = WebSocketRecords.records(new TextWebSocketFrame("hi"), 100, ALLOC)
                .collectList()
                .block();

        assertThat(records).hasSize(1);
        assertThat(hexAndRelease(records.get(0))).isEqualTo("816869");
    }

    @Test
    void frameLargerThanTheFragmentSizeIsSplitIntoContinuationsAndReleased() {
        ByteBuf payload = Unpooled.buffer().writeBytes(new byte[] {1, 2, 3, 4, 5});
        BinaryWebSocketFrame frame = new BinaryWebSocketFrame(true, 0, payload);
        List<ByteBuf> records = WebSocketRecords.records(frame, 2, ALLOC).collectList().block();

        assertThat(records).extracting(WebSocketRecordsTests::hexAndRelease)
                .containsExactly("020102", "000304", "8005");
        assertThat(payload.refCnt()).isZero();
    }

    @Test
    void aFragmentStaysAFragment() {
        List<ByteBuf> records = WebSocketRecords.records(
                        new TextWebSocketFrame(false, 0, Unpooled.copiedBuffer("a", StandardCharsets.UTF_8)), 100, ALLOC)
                .concatWith(WebSocketRecords.records(
                        new ContinuationWebSocketFrame(true, 0, Unpooled.copiedBuffer("b", StandardCharsets.UTF_8)),
                        100,
                        ALLOC))
                .collectList()
                .block();

        assertThat(records).extracting(WebSocketRecordsTests::hexAndRelease).containsExactly("0161", "8062");
    }

    @Test
    void cancellingBeforeTheLastFragmentReleasesTheFrame() {
        ByteBuf payload = Unpooled.buffer().writeZero(10);
        Flux<ByteBuf> records = WebSocketRecords.records(new BinaryWebSocketFrame(payload), 3, ALLOC);

        ByteBuf first = records.blockFirst();

        assertThat(hexAndRelease(first)).isEqualTo("02000000");
        assertThat(payload.refCnt()).isZero();
    }

    @Test
    void closeRecordCarriesStatusAndReasonAndDecodesBack() {
        ByteBuf record = WebSocketRecords.close(4001, "bye", ALLOC);
        assertThat(ByteBufUtil.hexDump(record)).isEqualTo("880fa1627965");

        WebSocketFrame frame = WebSocketRecords.toFrame(record);

        assertThat(frame).isInstanceOfSatisfying(CloseWebSocketFrame.class, close -> {
            assertThat(close.statusCode()).isEqualTo(4001);
            assertThat(close.reasonText()).isEqualTo("bye");
        });
        frame.release();
        assertThat(record.refCnt()).isZero();
    }

    @Test
    void recordsDecodeToTheFramesTheyCarry() {
        WebSocketFrame ping = WebSocketRecords.toFrame(buf("8961"));
        WebSocketFrame fragment = WebSocketRecords.toFrame(buf("0201"));

        assertThat(ping).isInstanceOf(PingWebSocketFrame.class);
        assertThat(fragment).isInstanceOf(BinaryWebSocketFrame.class);
        assertThat(fragment.isFinalFragment()).isFalse();
        ping.release();
        fragment.release();
    }

    @Test
    void invalidRecordsAreRejectedAndReleased() {
        for (String hex : List.of("", "83", "c1", "08", "8801", "8803ed", "89" + "00".repeat(126))) {
            ByteBuf record = buf(hex);
            assertThatThrownBy(() -> WebSocketRecords.toFrame(record))
                    .as("record %s", hex)
                    .isInstanceOf(WebSocketRecords.InvalidRecordException.class);
            assertThat(record.refCnt()).isZero();
        }
    }

    @Test
    void fragmentSizeStaysWithinOneFrameAndHalfAWindow() {
        assertThat(WebSocketRecords.fragmentSize(262_138, 262_144)).isEqualTo(64 * 1024);
        assertThat(WebSocketRecords.fragmentSize(65_536, 262_144)).isEqualTo(65_535);
        assertThat(WebSocketRecords.fragmentSize(262_138, 16_384)).isEqualTo(8_192);
    }

    private static ByteBuf buf(String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex);
        return Unpooled.buffer(bytes.length).writeBytes(bytes);
    }

    private static String hexAndRelease(ByteBuf buf) {
        try {
            return ByteBufUtil.hexDump(buf);
        } finally {
            buf.release();
        }
    }
}
