package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.OwnEventLoops;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A stop drains (readiness REFUSING_TRAFFIC); a start after it must take that back. Spring pauses
 * and restarts a context's lifecycle (its test context cache does so on every context switch):
 * left draining, the restarted ingress closed every new public WebSocket with 1001 right after its
 * 101 and reported itself not ready.
 */
class TunnelServerRestartIntegrationTests {

    private ConfigurableApplicationContext context;

    @AfterEach
    void close() {
        if (context != null) {
            context.close();
        }
    }

    @Test
    void aRestartedIngressIsReadyAgain() {
        context = OwnEventLoops.apply(IngressApplication.application()).run("--server.port=0",
                "--management.server.port=0", "--ingress.tunnel.port=0", "--ingress.auth.token=restart-token",
                "--ingress.tunnel.drain-timeout=1s");
        ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
        TunnelServer server = context.getBean(TunnelServer.class);
        assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);

        context.pause();
        assertThat(server.draining()).isTrue();
        assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.REFUSING_TRAFFIC);

        context.restart();
        assertThat(server.draining()).isFalse();
        assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
    }
}
