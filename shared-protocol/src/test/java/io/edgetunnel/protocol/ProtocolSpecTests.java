package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Keeps {@code docs/protocol.md} honest: its tables and byte examples must match the code. */
class ProtocolSpecTests {

    private static final Pattern HEX_BLOCK = Pattern.compile("```hex\\n(.*?)```", Pattern.DOTALL);

    private static String spec;

    @BeforeAll
    static void readSpec() throws IOException {
        // surefire runs in the module directory; the spec lives at the repository root
        spec = Files.readString(Path.of("..", "docs", "protocol.md"), StandardCharsets.UTF_8);
    }

    @Test
    void listsEveryFrameTypeWithItsCode() {
        for (FrameType type : FrameType.values()) {
            assertThat(spec).contains(String.format("| `0x%02x` | %s |", type.code, type.name()));
        }
    }

    @Test
    void listsEveryCloseCode() {
        for (CloseCode code : CloseCode.values()) {
            assertThat(spec).contains("| " + code.code() + " | `" + code.name() + "` |");
        }
    }

    @Test
    void listsEveryRejectReason() {
        for (RejectReason reason : RejectReason.values()) {
            assertThat(spec).contains("| " + reason.code() + " | `" + reason.name() + "` |");
        }
    }

    @Test
    void listsEveryResetCode() {
        for (ResetCode code : ResetCode.values()) {
            assertThat(spec).contains("| " + code.code() + " | `" + code.name() + "` |");
        }
    }

    @Test
    void statesTheDefaultLimits() {
        ProtocolLimits limits = ProtocolLimits.DEFAULTS;
        assertThat(spec)
                .contains("| `maxFrameBytes` | " + limits.maxFrameBytes() + " ")
                .contains("| `maxHeaderCount` | " + limits.maxHeaderCount() + " ")
                .contains("| `maxHeaderBytes` | " + limits.maxHeaderBytes() + " ")
                .contains("| `maxRoutes` | " + limits.maxRoutes() + " ")
                .contains("| `maxStringBytes` | " + limits.maxStringBytes() + " ")
                .contains("`maxFrameBytes − 6` = " + limits.maxDataPayload());
    }

    @Test
    void statesTheSupportedVersion() {
        assertThat(spec)
                .contains("`ProtocolVersion.MIN = " + ProtocolVersion.MIN + "`, `MAX = " + ProtocolVersion.MAX + "`")
                .contains("`ProtocolVersion.REPLICA_IN_ACCEPT = " + ProtocolVersion.REPLICA_IN_ACCEPT + "`");
    }

    @Test
    void byteExamplesDecodeAndReencodeToTheSameBytes() {
        List<byte[]> examples = hexExamples();
        assertThat(examples).hasSizeGreaterThanOrEqualTo(10);
        FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);
        List<FrameType> seen = new ArrayList<>();
        for (byte[] example : examples) {
            ByteBuf in = Unpooled.wrappedBuffer(example);
            Frame frame = codec.decode(in);
            seen.add(FrameType.of(example[0]));
            ByteBuf encoded = codec.encode(frame, ByteBufAllocator.DEFAULT);
            try {
                assertThat(ByteBufUtil.getBytes(encoded)).as("re-encoded %s", frame).isEqualTo(example);
            } finally {
                encoded.release();
                in.release();
            }
        }
        assertThat(seen).contains(FrameType.HELLO, FrameType.ACCEPT, FrameType.REQUEST, FrameType.DATA);
    }

    @Test
    void webSocketRecordExamplesDecodeToValidFrames() {
        FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);
        int records = 0;
        for (byte[] example : hexExamples()) {
            Frame frame = codec.decode(Unpooled.wrappedBuffer(example));
            if (frame instanceof Frame.Data data && data.streamId() == 7) {
                io.netty.handler.codec.http.websocketx.WebSocketFrame ws =
                        io.edgetunnel.protocol.websocket.WebSocketRecords.toFrame(data.content());
                ws.release();
                records++;
            } else if (frame instanceof Frame.Data data) {
                data.content().release();
            }
        }
        assertThat(records).as("section 19's examples, on stream 7").isEqualTo(3);
    }

    private static List<byte[]> hexExamples() {
        List<byte[]> examples = new ArrayList<>();
        Matcher matcher = HEX_BLOCK.matcher(spec);
        while (matcher.find()) {
            StringBuilder hex = new StringBuilder();
            for (String line : matcher.group(1).split("\n")) {
                int comment = line.indexOf('#');
                hex.append((comment >= 0 ? line.substring(0, comment) : line).replaceAll("\\s", ""));
            }
            examples.add(HexFormat.of().parseHex(hex));
        }
        return examples;
    }
}
