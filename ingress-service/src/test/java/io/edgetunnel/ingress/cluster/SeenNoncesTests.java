package io.edgetunnel.ingress.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Each peer-link signature opens one link: its nonce is remembered while the signature could be accepted. */
class SeenNoncesTests {

    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final SeenNonces nonces = new SeenNonces(120_000, clock::get);

    @Test
    void aNonceIsAcceptedOncePerSigner() {
        assertThat(nonces.firstUse("a", "n1", clock.get())).isTrue();
        assertThat(nonces.firstUse("a", "n1", clock.get())).isFalse();
        assertThat(nonces.firstUse("b", "n1", clock.get())).as("another signer's nonce").isTrue();
        assertThat(nonces.firstUse("a", "n2", clock.get())).isTrue();
    }

    @Test
    void aFullSetForgetsOnlyExpiredNoncesAndOtherwiseRefuses() {
        for (int i = 0; i < SeenNonces.CAPACITY; i++) {
            assertThat(nonces.firstUse("a", "n" + i, clock.get())).isTrue();
        }
        // full, none expired: a flood of signed upgrades is refused, never let through unremembered
        assertThat(nonces.firstUse("a", "one-more", clock.get())).isFalse();
        clock.addAndGet(120_001);
        assertThat(nonces.firstUse("a", "one-more", clock.get())).isTrue();
        assertThat(nonces.size()).isEqualTo(1);
        // a nonce forgotten once expired could be used again, but its signature is too old by then
        assertThat(nonces.firstUse("a", "n0", clock.get() - 120_001)).isTrue();
    }
}
