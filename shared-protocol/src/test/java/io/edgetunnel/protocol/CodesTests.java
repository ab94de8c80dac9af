package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CodesTests {

    @Test
    void everyCodeIsUniqueAndDecodesToItself() {
        for (CloseCode code : CloseCode.values()) {
            assertThat(CloseCode.of(code.code())).isSameAs(code);
        }
        for (RejectReason reason : RejectReason.values()) {
            assertThat(RejectReason.of(reason.code())).isSameAs(reason);
        }
        for (ResetCode code : ResetCode.values()) {
            assertThat(ResetCode.of(code.code())).isSameAs(code);
        }
        for (FrameType type : FrameType.values()) {
            assertThat(FrameType.of(type.code)).isSameAs(type);
        }
    }

    @Test
    void ourCloseCodesUseThePrivateRangeOrTheStandardOnes() {
        assertThat(Arrays.stream(CloseCode.values()).mapToInt(CloseCode::code))
                .allMatch(code -> code == 1000 || code == 1001 || (code >= 4000 && code <= 4999));
    }

    @Test
    void unknownCloseCodesMapToProtocolErrorInThePrivateRangeAndNormalBelowIt() {
        assertThat(CloseCode.of(4999)).isSameAs(CloseCode.PROTOCOL_ERROR);
        assertThat(CloseCode.of(1006)).isSameAs(CloseCode.NORMAL);
    }

    @Test
    void unknownRejectAndResetCodesDecodeAsTheirFallbacks() {
        assertThat(RejectReason.of(0)).isSameAs(RejectReason.INVALID_HELLO);
        assertThat(RejectReason.of(65_535)).isSameAs(RejectReason.INVALID_HELLO);
        assertThat(ResetCode.of(0)).isSameAs(ResetCode.INTERNAL_ERROR);
        assertThat(ResetCode.of(65_535)).isSameAs(ResetCode.INTERNAL_ERROR);
    }

    @Test
    void unassignedFrameTypeBytesAreUnknown() {
        long known = Arrays.stream(FrameType.values()).count();
        long decodable = java.util.stream.IntStream.range(0, 256).filter(b -> FrameType.of(b) != null).count();
        assertThat(decodable).isEqualTo(known);
        assertThat(FrameType.of(0x00)).isNull();
        assertThat(FrameType.of(0xFF)).isNull();
    }
}
