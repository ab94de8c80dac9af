package io.edgetunnel.ingress.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The settings a peer link's upgrade carries in its (signed) request target. */
class LinkSettingsTests {

    @Test
    void theTargetCarriesEverySettingAndParsesBackToTheSame() {
        LinkSettings settings = new LinkSettings(262_144, 262_144, 4096, Duration.ofSeconds(20));
        assertThat(settings.target()).startsWith(LinkSettings.PATH + "?");
        assertThat(LinkSettings.parse(settings.target())).isEqualTo(settings);
    }

    @Test
    void refusesAnotherPathMissingSettingsAndValuesOutOfRange() {
        assertThatThrownBy(() -> LinkSettings.parse("/name?window=262144")).hasMessageContaining("expected: " + LinkSettings.PATH);
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=262144&frame=262144&streams=1"))
                .hasMessageContaining("heartbeat");
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=10&frame=262144&streams=1&heartbeat=1000"))
                .hasMessageContaining("window: 10 (expected: 1024..");
        // a signed sender still cannot make the holder grant a huge window, run many streams or never ping
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=2147483647&frame=262144&streams=1&heartbeat=1000"))
                .hasMessageContaining("window");
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=262144&frame=262144&streams=1000000&heartbeat=1000"))
                .hasMessageContaining("streams");
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=262144&frame=262144&streams=1&heartbeat=86400000"))
                .hasMessageContaining("heartbeat");
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=262144&frame=99999999&streams=1&heartbeat=1000"))
                .hasMessageContaining("frame");
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=262144&frame=262144&streams=0&heartbeat=1000"))
                .hasMessageContaining("streams");
    }

    @Test
    void theSignerNonceAndTimeOfAHeaderAreItsFields() {
        HopSignature signature = new HopSignature("0123456789abcdef0123456789abcdef", "replica-x");
        long before = System.currentTimeMillis();
        String header = signature.sign("GET", LinkSettings.PATH + "?a=1", LinkSettings.signedHost("replica-y"));
        assertThat(signature.signer(header)).isEqualTo("replica-x");
        assertThat(HopSignature.nonce(header)).isNotBlank().isNotEqualTo(HopSignature.nonce(
                signature.sign("GET", LinkSettings.PATH + "?a=1", LinkSettings.signedHost("replica-y"))));
        assertThat(HopSignature.signedAt(header)).isBetween(before, System.currentTimeMillis());
        assertThat(signature.signer("garbage")).isEmpty();
        assertThat(signature.signer(null)).isEmpty();
    }

    @Test
    void aSignatureForOneHolderDoesNotOpenALinkToAnother() {
        HopSignature sender = new HopSignature("0123456789abcdef0123456789abcdef", "replica-x");
        HopSignature holderY = new HopSignature("0123456789abcdef0123456789abcdef", "replica-y");
        String target = LinkSettings.PATH + "?a=1";
        String header = sender.sign("GET", target, LinkSettings.signedHost("replica-y"));
        assertThat(holderY.reject(header, "GET", target, LinkSettings.signedHost("replica-y"))).isNull();
        assertThat(holderY.reject(header, "GET", target, LinkSettings.signedHost("replica-z"))).isEqualTo("bad signature");
    }
}
