package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameTests {

    private static Frame.Hello hello(String token, String identityProof) {
        return new Frame.Hello(1, 1, "agent-1", token, identityProof, List.of(RouteClaim.host("a.example.com")), Map.of());
    }

    @Test
    void helloToStringNeverContainsTheTokenOrIdentityProof() {
        Frame.Hello hello = hello(SampleFrames.TOKEN, SampleFrames.IDENTITY_PROOF);
        assertThat(hello.toString())
                .doesNotContain(SampleFrames.TOKEN)
                .doesNotContain("X-Amz-Signature")
                .contains("agent-1", "token=****", "identityProof=****", "a.example.com");
    }

    @Test
    void helloToStringSaysNoneWhenNoCredentialIsSent() {
        assertThat(hello("", "").toString()).contains("token=none", "identityProof=none");
    }

    @Test
    void everySampleFrameToStringLeavesOutTheSecrets() {
        for (Frame frame : SampleFrames.controlFrames()) {
            assertThat(frame.toString()).doesNotContain(SampleFrames.TOKEN, SampleFrames.IDENTITY_PROOF);
        }
    }

    @Test
    void dataToStringShowsTheSizeNotTheContent() {
        Frame.Data data = new Frame.Data(3, Unpooled.wrappedBuffer(SampleFrames.utf8("password=hunter2")), true);
        try {
            assertThat(data.toString()).isEqualTo("Data[streamId=3, bytes=16, endStream=true]");
        } finally {
            data.content().release();
        }
    }

    @Test
    void dataEqualityComparesContentBytes() {
        Frame.Data a = new Frame.Data(1, Unpooled.wrappedBuffer(new byte[] {1, 2}), false);
        Frame.Data b = new Frame.Data(1, Unpooled.copiedBuffer(new byte[] {9, 1, 2}).skipBytes(1), false);
        try {
            assertThat(a).isEqualTo(b);
        } finally {
            a.content().release();
            b.content().release();
        }
    }

    @Test
    void connectionFramesUseStreamZero() {
        for (Frame frame : SampleFrames.controlFrames()) {
            boolean streamFrame = frame instanceof Frame.Request
                    || frame instanceof Frame.Response
                    || frame instanceof Frame.Trailers
                    || frame instanceof Frame.WindowUpdate
                    || frame instanceof Frame.Reset;
            if (streamFrame) {
                assertThat(frame.streamId()).as("%s", frame).isPositive();
            } else {
                assertThat(frame.streamId()).as("%s", frame).isZero();
            }
        }
    }

    @Test
    void helloCopiesItsCollections() {
        List<RouteClaim> routes = new ArrayList<>(List.of(RouteClaim.host("a.example.com")));
        Map<String, String> attributes = new HashMap<>(Map.of("k", "v"));
        Frame.Hello hello = new Frame.Hello(1, 1, "agent", "", "", routes, attributes);
        routes.add(RouteClaim.host("b.example.com"));
        attributes.put("k2", "v2");
        assertThat(hello.routes()).hasSize(1);
        assertThat(hello.attributes()).hasSize(1);
        assertThatThrownBy(() -> hello.routes().add(RouteClaim.host("c.example.com")))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void headerListsAreCopied() {
        List<Header> headers = new ArrayList<>(List.of(new Header("a", "1")));
        Frame.Response response = new Frame.Response(1, 200, headers, false);
        headers.clear();
        assertThat(response.headers()).containsExactly(new Header("a", "1"));
    }

    @Test
    void helloRejectsAnInvertedOrOutOfRangeVersionRange() {
        assertThatThrownBy(() -> new Frame.Hello(2, 1, "a", "", "", List.of(), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("minVersion: 2 (expected: <= maxVersion 1)");
        assertThatThrownBy(() -> new Frame.Hello(1, 65_536, "a", "", "", List.of(), Map.of()))
                .hasMessage("maxVersion: 65536 (expected: 0..65535)");
        assertThatThrownBy(() -> new Frame.Hello(-1, 1, "a", "", "", List.of(), Map.of()))
                .hasMessage("minVersion: -1 (expected: 0..65535)");
    }

    @Test
    void helloRejectsNullCredentialsAndNullRoutes() {
        assertThatThrownBy(() -> new Frame.Hello(1, 1, "a", null, "", List.of(), Map.of()))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Frame.Hello(1, 1, "a", "", "", null, Map.of()))
                .isInstanceOf(NullPointerException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void streamFramesRequireAPositiveStreamId(int streamId) {
        String expected = "streamId: " + streamId + " (expected: > 0)";
        assertThatThrownBy(() -> new Frame.Request(streamId, "GET", "/", "h", "/", List.of(), true))
                .hasMessage(expected);
        assertThatThrownBy(() -> new Frame.Response(streamId, 200, List.of(), true)).hasMessage(expected);
        assertThatThrownBy(() -> new Frame.Data(streamId, Unpooled.EMPTY_BUFFER, true)).hasMessage(expected);
        assertThatThrownBy(() -> new Frame.Trailers(streamId, List.of())).hasMessage(expected);
        assertThatThrownBy(() -> new Frame.WindowUpdate(streamId, 1)).hasMessage(expected);
        assertThatThrownBy(() -> new Frame.Reset(streamId, ResetCode.CANCEL, "")).hasMessage(expected);
    }

    @Test
    void requestRequiresAMethodAndATarget() {
        assertThatThrownBy(() -> new Frame.Request(1, "", "/", "h", "/", List.of(), true))
                .hasMessage("method: \"\" (expected: non-empty)");
        assertThatThrownBy(() -> new Frame.Request(1, "GET", "", "h", "/", List.of(), true))
                .hasMessage("target: \"\" (expected: non-empty)");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 99, 1000, 65535, -200})
    void responseRejectsStatusOutside100To999(int status) {
        assertThatThrownBy(() -> new Frame.Response(1, status, List.of(), true))
                .hasMessage("status: " + status + " (expected: 100..999)");
    }

    @Test
    void windowUpdateRequiresAPositiveIncrement() {
        assertThatThrownBy(() -> new Frame.WindowUpdate(1, 0)).hasMessage("increment: 0 (expected: > 0)");
    }

    @Test
    void acceptRequiresPositiveLimits() {
        assertThatThrownBy(() -> new Frame.Accept(1, "s", 0, 1, 1, 1)).hasMessage("maxFramePayload: 0 (expected: > 0)");
        assertThatThrownBy(() -> new Frame.Accept(1, "s", 1, 0, 1, 1))
                .hasMessage("initialStreamWindow: 0 (expected: > 0)");
        assertThatThrownBy(() -> new Frame.Accept(1, "s", 1, 1, 0, 1))
                .hasMessage("maxConcurrentStreams: 0 (expected: > 0)");
        assertThatThrownBy(() -> new Frame.Accept(1, "s", 1, 1, 1, -5))
                .hasMessage("heartbeatIntervalMillis: -5 (expected: > 0)");
    }

    @Test
    void acceptCarriesReplicaFieldsFromVersionTwoOnly() {
        Frame.Accept v1 = new Frame.Accept(1, "s", 1, 1, 1, 1);
        assertThat(v1.replicaId()).isEmpty();
        assertThat(v1.replicaCount()).isEqualTo(1);
        assertThat(v1.carriesReplica()).isFalse();
        assertThat(new Frame.Accept(2, "s", 1, 1, 1, 1, "r-1", 3).carriesReplica()).isTrue();
        assertThatThrownBy(() -> new Frame.Accept(1, "s", 1, 1, 1, 1, "r-1", 1))
                .hasMessageContaining("replicaId \"r-1\", replicaCount 1 at version 1 (expected: \"\" and 1 below version 2");
        assertThatThrownBy(() -> new Frame.Accept(1, "s", 1, 1, 1, 1, "", 2)).hasMessageContaining("at version 1");
        assertThatThrownBy(() -> new Frame.Accept(2, "s", 1, 1, 1, 1, "r", 0))
                .hasMessage("replicaCount: 0 (expected: > 0)");
        assertThatThrownBy(() -> new Frame.Accept(2, "s", 1, 1, 1, 1, null, 1)).hasMessage("replicaId");
    }

    @Test
    void headerRequiresANonEmptyName() {
        assertThatThrownBy(() -> new Header("", "v")).hasMessage("name: \"\" (expected: non-empty)");
        assertThat(new Header("X-Empty", "").value()).isEmpty();
    }

    @Test
    void limitsRejectValuesTooSmallToCarryAFrame() {
        assertThatThrownBy(() -> new ProtocolLimits(1023, 1, 1, 1, 64)).hasMessage("maxFrameBytes: 1023 (expected: >= 1024)");
        assertThatThrownBy(() -> new ProtocolLimits(1024, 1, 1, 1, 63)).hasMessage("maxStringBytes: 63 (expected: >= 64)");
        assertThat(ProtocolLimits.DEFAULTS.maxDataPayload()).isEqualTo(256 * 1024 - 6);
    }
}
