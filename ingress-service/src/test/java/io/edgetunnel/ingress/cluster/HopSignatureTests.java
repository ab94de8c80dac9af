package io.edgetunnel.ingress.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The replica-to-replica signature: bound to one request, one secret, a time window, and no loops. */
class HopSignatureTests {

    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    private final HopSignature a = new HopSignature(SECRET, "replica-a", clock::get);
    private final HopSignature b = new HopSignature(SECRET, "replica-b", clock::get);

    @Test
    void aSignatureFromAnotherReplicaWithTheSameSecretIsAccepted() {
        String header = a.sign("GET", "/x?y=1", "app.example.com");
        assertThat(b.reject(header, "GET", "/x?y=1", "app.example.com")).isNull();
    }

    @Test
    void itIsBoundToTheMethodTargetAndHost() {
        String header = a.sign("GET", "/x?y=1", "app.example.com");
        assertThat(b.reject(header, "POST", "/x?y=1", "app.example.com")).isEqualTo("bad signature");
        assertThat(b.reject(header, "GET", "/x?y=2", "app.example.com")).isEqualTo("bad signature");
        assertThat(b.reject(header, "GET", "/x?y=1", "other.example.com")).isEqualTo("bad signature");
    }

    @Test
    void anotherSecretAForgedOrMalformedHeaderOrAnOldOneIsRefused() {
        HopSignature stranger = new HopSignature("another-secret-another-secret-0000", "replica-x", clock::get);
        assertThat(b.reject(stranger.sign("GET", "/", "h"), "GET", "/", "h")).isEqualTo("bad signature");
        assertThat(b.reject(null, "GET", "/", "h")).startsWith("missing");
        assertThat(b.reject("v1 replica-a notanumber n m", "GET", "/", "h")).startsWith("malformed");
        assertThat(b.reject("v2 replica-a 1 n m", "GET", "/", "h")).startsWith("malformed");
        String header = a.sign("GET", "/", "h");
        clock.addAndGet(HopSignature.MAX_SKEW_MILLIS + 1);
        assertThat(b.reject(header, "GET", "/", "h")).isEqualTo("signature expired");
    }

    @Test
    void aReplicaRefusesWhatItSignedItself() {
        assertThat(a.reject(a.sign("GET", "/", "h"), "GET", "/", "h")).contains("itself");
    }

    @Test
    void twoSignaturesOfTheSameRequestDiffer() {
        assertThat(a.sign("GET", "/", "h")).isNotEqualTo(a.sign("GET", "/", "h"));
    }
}
