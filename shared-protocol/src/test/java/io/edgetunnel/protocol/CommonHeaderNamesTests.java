package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommonHeaderNamesTests {

    private final FrameCodec codec = new FrameCodec(ProtocolLimits.DEFAULTS);

    @Test
    void decodesEveryCommonNameAsTheSharedString() {
        List<Header> headers = new ArrayList<>();
        for (String name : CommonHeaderNames.all()) {
            headers.add(new Header(new String(name.toCharArray()), "v"));
        }

        List<Header> decoded = roundTrip(headers);

        assertThat(decoded).isEqualTo(headers);
        for (int i = 0; i < decoded.size(); i++) {
            assertThat(decoded.get(i).name()).isSameAs(CommonHeaderNames.all().get(i));
        }
    }

    @Test
    void decodesOtherNamesByteForByteWhateverTheirCase() {
        List<Header> headers = List.of(
                new Header("HOST", "a"), new Header("hOst", "b"), new Header("Hosu", "c"), new Header("Hos\u00e9", "d"),
                new Header("Content-Typf", "e"), new Header("X-App", "f"), new Header("Content-Type", "g"),
                new Header("content-type", "h"), new Header("X".repeat(300), "i"));

        assertThat(roundTrip(headers)).isEqualTo(headers);
    }

    private List<Header> roundTrip(List<Header> headers) {
        ByteBuf encoded = codec.encode(new Frame.Response(1, 200, headers, true), UnpooledByteBufAllocator.DEFAULT);
        try {
            return ((Frame.Response) codec.decode(encoded)).headers();
        } finally {
            encoded.release();
        }
    }
}
