package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/** An empty rule list by profile: allow-all in {@code local} only; refused everywhere else. */
class EmptyPolicyIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private ConfigurableApplicationContext context;

    @AfterEach
    void close() {
        if (context != null) {
            context.close();
        }
    }

    private Frame helloWithProfile(String profile) {
        context = OwnEventLoops.apply(IngressApplication.application()).run("--spring.profiles.active=" + profile,
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=the-token", "--ingress.policy.when-empty=auto");
        try (FakeAgent agent = FakeAgent.hello(context.getBean(TunnelServer.class).port(), "/tunnel", "a", "the-token",
                "any.example.com")) {
            return agent.next(WAIT);
        }
    }

    @Test
    void theLocalProfileAllowsEveryClaim() {
        assertThat(helloWithProfile("local")).isInstanceOf(Frame.Accept.class);
    }

    @Test
    void withoutAProfileEveryClaimIsRefused() {
        assertThat(helloWithProfile("default")).isInstanceOfSatisfying(Frame.Reject.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.HOST_NOT_ALLOWED));
    }

    @Test
    void localTogetherWithADeployedProfileIsNotLocal() {
        assertThat(helloWithProfile("local,dev")).isInstanceOfSatisfying(Frame.Reject.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.HOST_NOT_ALLOWED));
    }
}
