package io.edgetunnel.ingress.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.config.AuthProperties;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

class TokenVerifierTests {

    private static Frame.Hello hello(String token) {
        return new Frame.Hello(1, 1, "agent", token, "", List.of(RouteClaim.host("a.test")), Map.of());
    }

    @Test
    void acceptsTheConfiguredTokenOnly() {
        TokenVerifier verifier = new TokenVerifier("s3cret", new MockEnvironment());

        assertThat(verifier.authenticate(hello("s3cret")).block()).isEqualTo(new AuthResult.Authenticated("agent"));
        assertThat(verifier.authenticate(hello("s3cret2")).block())
                .isEqualTo(new AuthResult.Rejected(RejectReason.BAD_CREDENTIALS, "token not accepted"));
        assertThat(verifier.verify("")).isFalse();
        assertThat(verifier.verify("S3CRET")).isFalse();
    }

    @Test
    void emptyTokenOutsideLocalProfileFailsNamingTheProperty() {
        assertThatThrownBy(() -> new TokenVerifier("", new MockEnvironment()))
                .hasMessageContaining("ingress.auth.token")
                .hasMessageContaining("TUNNEL_TOKEN");
    }

    @Test
    void emptyTokenInLocalProfileAcceptsNobody() {
        MockEnvironment local = new MockEnvironment();
        local.setActiveProfiles("local");
        TokenVerifier verifier = new TokenVerifier("", local);

        assertThat(verifier.verify("")).isFalse();
        assertThat(verifier.verify("anything")).isFalse();
    }

    @Test
    void propertiesNeverPrintTheToken() {
        assertThat(new AuthProperties("", "s3cret", null, "", null, null, null).toString()).doesNotContain("s3cret");
    }

    @Test
    void applicationRefusesToStartWithoutATokenOutsideLocal() {
        assertThatThrownBy(() -> OwnEventLoops.apply(IngressApplication.application()).run(
                        "--ingress.auth.token=", "--server.port=0", "--management.server.port=0",
                        "--ingress.tunnel.port=0"))
                .hasStackTraceContaining("ingress.auth.token");
    }
}
