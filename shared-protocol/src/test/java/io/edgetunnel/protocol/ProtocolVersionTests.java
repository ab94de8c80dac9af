package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProtocolVersionTests {

    @Test
    void speaksVersionsOneAndTwo() {
        assertThat(ProtocolVersion.MIN).isEqualTo(1);
        assertThat(ProtocolVersion.MAX).isEqualTo(2);
        assertThat(ProtocolVersion.REPLICA_IN_ACCEPT).isEqualTo(2);
    }

    @ParameterizedTest(name = "peer {0}..{1} -> {2}")
    @CsvSource({"1, 1, 1", "0, 1, 1", "1, 2, 2", "1, 7, 2", "2, 2, 2", "2, 9, 2", "0, 65535, 2"})
    void picksTheHighestVersionBothSidesSupport(int peerMin, int peerMax, int expected) {
        assertThat(ProtocolVersion.negotiate(peerMin, peerMax)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "peer {0}..{1}")
    @CsvSource({"3, 3", "3, 9", "0, 0", "5, 1", "65535, 65535"})
    void returnsMinusOneWhenTheRangesDoNotOverlap(int peerMin, int peerMax) {
        assertThat(ProtocolVersion.negotiate(peerMin, peerMax)).isEqualTo(-1);
    }

    @Test
    void neverPicksAVersionOutsideEitherRange() {
        for (int min = 0; min <= 4; min++) {
            for (int max = 0; max <= 4; max++) {
                int chosen = ProtocolVersion.negotiate(min, max);
                if (chosen != -1) {
                    assertThat(chosen).isBetween(min, max).isBetween(ProtocolVersion.MIN, ProtocolVersion.MAX);
                } else {
                    assertThat(Math.min(max, ProtocolVersion.MAX)).isLessThan(Math.max(min, ProtocolVersion.MIN));
                }
            }
        }
    }
}
