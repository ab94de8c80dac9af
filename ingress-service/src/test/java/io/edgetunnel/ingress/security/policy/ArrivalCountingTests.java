package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.security.AuthResult;
import io.edgetunnel.ingress.security.iam.CallerIdentityVerifier;
import io.edgetunnel.ingress.security.iam.IamAuthProperties;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

/** A failed hello counts when it arrives, not when its verification ends. */
class ArrivalCountingTests {

    @Test
    void hellosSentSideBySideAreRateLimitedWhileTheirVerificationsStillRun() {
        // verifications that never run: an STS that hangs, seen from the ingress
        CallerIdentityVerifier stuck = new CallerIdentityVerifier(
                new IamAuthProperties("ingress.test", null, Duration.ofMinutes(5), Duration.ofSeconds(5), List.of(), List.of(), true),
                URI.create("https://sts.eu-west-1.amazonaws.com/"), Clock.systemUTC(), Optional.empty())
                .verifyingOn(Schedulers.fromExecutor(task -> {}));
        HostPolicyProperties limits = new HostPolicyProperties(List.of(), "", "allow", 8, 4096,
                new HostPolicyProperties.FailedHellos(2, Duration.ofMinutes(1), Duration.ofMinutes(5),
                        Duration.ofMinutes(15), 100));
        PolicyAuthenticator authenticator = new PolicyAuthenticator(AuthMode.IAM, null, stuck, HostPolicy.allowAll(),
                limits, new FailedHelloLimiter(limits.failedHellos(), Clock.systemUTC()), identity -> 0);
        Frame.Hello hello = new Frame.Hello(ProtocolVersion.MIN, ProtocolVersion.MAX, "a", "", "proof",
                List.of(RouteClaim.host("a.test")), Map.of());

        for (int i = 0; i < 3; i++) {
            authenticator.authenticate(hello, "203.0.113.5").subscribe();
        }
        AuthResult fourth = authenticator.authenticate(hello, "203.0.113.5").block(Duration.ofSeconds(30));

        assertThat(fourth).isInstanceOfSatisfying(AuthResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.RATE_LIMITED));
    }
}
