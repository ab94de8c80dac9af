package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.ingress.security.HelloSource;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrustedProxiesTests {

    private final TrustedProxies alb = TrustedProxies.of(List.of("10.0.0.0/16", "fd00::/8"));

    @Test
    void trustsAddressesInsideItsBlocksOnly() {
        assertThat(alb.trusted("10.0.3.4")).isTrue();
        assertThat(alb.trusted("10.1.3.4")).isFalse();
        assertThat(alb.trusted("fd12::1")).isTrue();
        assertThat(alb.trusted("fe80::1")).isFalse();
        // an IPv4-mapped address is the IPv4 address, as the JDK reads it
        assertThat(alb.trusted("::ffff:10.0.3.4")).isTrue();
    }

    @Test
    void readsLiteralsOnlyNeverNamesOrDecoratedForms() {
        assertThat(alb.trusted("example.com")).isFalse();
        assertThat(alb.trusted("10.0.0")).isFalse();
        assertThat(alb.trusted("10.0.0.256")).isFalse();
        assertThat(alb.trusted("[fd12::1]")).isFalse();
        assertThat(alb.trusted("fd12::1%eth0")).isFalse();
        assertThat(alb.trusted(" 10.0.3.4")).isFalse();
        assertThat(alb.trusted(null)).isFalse();
    }

    @Test
    void nothingIsTrustedWithoutBlocks() {
        assertThat(TrustedProxies.none().trusted("10.0.3.4")).isFalse();
        assertThat(TrustedProxies.of(List.of(" ", "")).trusted("127.0.0.1")).isFalse();
    }

    @Test
    void theSourceIsTheLastForwardedEntryOnlyFromATrustedPeer() {
        assertThat(alb.sourceOf(new HelloSource("10.0.3.4:4711", "1.1.1.1, 203.0.113.9", null))).isEqualTo("203.0.113.9");
        assertThat(alb.sourceOf(new HelloSource("198.51.100.7:4711", "203.0.113.9", null))).isEqualTo("198.51.100.7");
        // a last entry that is no address falls back to the peer
        assertThat(alb.sourceOf(new HelloSource("10.0.3.4:4711", "203.0.113.9, evil.example", null))).isEqualTo("10.0.3.4");
        assertThat(alb.sourceOf(new HelloSource("[fd12::1]:4711", "2001:db8::7", null))).isEqualTo("2001:db8::7");
    }

    @Test
    void aBlockThatIsNoCidrIsAStartupError() {
        assertThatThrownBy(() -> TrustedProxies.of(List.of("10.0.0.0/33")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.0.0.0/33");
        assertThatThrownBy(() -> TrustedProxies.of(List.of("alb.internal/16")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: CIDRs");
    }
}
