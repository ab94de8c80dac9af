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
                .hasMessageContaining("window: 10 (expected: >= 1024)");
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=262144&frame=99999999&streams=1&heartbeat=1000"))
                .hasMessageContaining("frame");
        assertThatThrownBy(() -> LinkSettings.parse(LinkSettings.PATH + "?window=262144&frame=262144&streams=0&heartbeat=1000"))
                .hasMessageContaining("streams");
    }

    @Test
    void theSignerOfAHeaderIsItsSecondField() {
        HopSignature signature = new HopSignature("0123456789abcdef0123456789abcdef", "replica-x");
        String header = signature.sign("GET", LinkSettings.PATH + "?a=1", LinkSettings.SIGNED_HOST);
        assertThat(signature.signer(header)).isEqualTo("replica-x");
        assertThat(signature.signer("garbage")).isEmpty();
        assertThat(signature.signer(null)).isEmpty();
    }
}
