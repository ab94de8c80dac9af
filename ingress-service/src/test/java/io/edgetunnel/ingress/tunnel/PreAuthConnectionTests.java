package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.security.AgentAuthenticator;
import io.edgetunnel.ingress.security.AuthResult;
import io.edgetunnel.ingress.security.HelloSource;
import io.edgetunnel.ingress.security.VerificationPool;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class PreAuthConnectionTests {

    private static final Frame.Hello HELLO = new Frame.Hello(ProtocolVersion.MIN, ProtocolVersion.MAX, "agent", "t", "",
            List.of(RouteClaim.host("a.test")), Map.of());
    private static final HelloSource SOURCE = new HelloSource("192.0.2.1:1234", null);

    private final VerificationPool pool = new VerificationPool(1, 1);
    private final AtomicInteger failures = new AtomicInteger();

    @AfterEach
    void close() {
        pool.close();
    }

    /** An authenticator whose verification never answers (an STS that hangs), counting failures. */
    private final AgentAuthenticator hanging = new AgentAuthenticator() {
        @Override
        public Mono<AuthResult> authenticate(Frame.Hello hello) {
            return Mono.never();
        }

        @Override
        public Mono<AuthResult> authenticate(Frame.Hello hello, HelloSource source) {
            return Mono.never();
        }

        @Override
        public void failedBeforeVerification(HelloSource source) {
            failures.incrementAndGet();
        }
    };

    private PreAuthConnection connection(Duration deadline) {
        return new PreAuthConnection(SOURCE, null, hanging, pool, deadline, 1024);
    }

    @Test
    void verificationsPastTheInFlightCapAreRefusedAtOnceNotQueued() {
        connection(Duration.ofMinutes(5)).verify(HELLO).subscribe();

        AuthResult second = connection(Duration.ofMinutes(5)).verify(HELLO).block(Duration.ofSeconds(30));

        assertThat(second).isInstanceOfSatisfying(AuthResult.Rejected.class, r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.RATE_LIMITED);
            assertThat(r.message()).contains("max-verifying");
        });
    }

    @Test
    void verificationPastTheDeadlineIsRejectedAndFreesItsPlace() {
        AuthResult result = connection(Duration.ofMillis(50)).verify(HELLO).block(Duration.ofSeconds(30));

        assertThat(result).isInstanceOfSatisfying(AuthResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.IDENTITY_UNVERIFIED));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> pool.inFlight() == 0);
    }

    @Test
    void aFailureBeforeVerificationIsCountedOnceAndNeverAfterAuthentication() {
        PreAuthConnection failing = connection(Duration.ofMinutes(5));
        failing.failed();
        failing.failed();
        PreAuthConnection accepted = connection(Duration.ofMinutes(5));
        accepted.authenticated();
        accepted.failed();

        assertThat(failures).hasValue(1);
    }
}
