package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TcpRoutesTests {

    @Test
    void claimsANameAsAnUnderscoreTcpHostThatIsAValidHostPattern() {
        RouteClaim claim = TcpRoutes.claim("SSH");
        assertThat(claim).isEqualTo(new RouteClaim("ssh._tcp", "/"));
        assertThat(HostNames.isValidPattern(claim.host())).isTrue();
        assertThat(TcpRoutes.isTcp(claim.host())).isTrue();
        assertThat(TcpRoutes.nameOf(claim.host())).isEqualTo("ssh");
    }

    @Test
    void tellsTcpClaimsFromHosts() {
        assertThat(TcpRoutes.isTcp("example.com")).isFalse();
        assertThat(TcpRoutes.isTcp("a.b._tcp")).isFalse();
        assertThat(TcpRoutes.isTcp("*._tcp")).isFalse();
        assertThat(TcpRoutes.isTcp("redis-1._tcp")).isTrue();
    }

    @Test
    void rejectsNamesThatAreNotOneLabel() {
        for (String bad : new String[] {"", " ", "a.b", "-x", "_x", "a b", "x".repeat(64), "é"}) {
            assertThatThrownBy(() -> TcpRoutes.checkName(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expected: 1..63 characters");
        }
        assertThatThrownBy(() -> TcpRoutes.checkName(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
