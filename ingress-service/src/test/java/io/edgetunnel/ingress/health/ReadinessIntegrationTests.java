package io.edgetunnel.ingress.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.testsupport.NoLeaks;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * What the ALB target group sees on {@code :8081/actuator/health/readiness}: UP as soon as the
 * ingress runs, with no agent at all (an ingress without agents is healthy; only its 404s/503s say
 * otherwise), and DOWN from the moment it starts draining on SIGTERM.
 */
@ExtendWith(NoLeaks.class)
class ReadinessIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String TOKEN = "readiness-token";

    private static ConfigurableApplicationContext start() {
        return OwnEventLoops.apply(IngressApplication.application()).run(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=" + TOKEN, "--ingress.tunnel.drain-timeout=5s");
    }

    private static int managementPort(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
    }

    /** The readiness status code, or -1 when the management port no longer accepts connections. */
    private static int readiness(int managementPort) {
        try {
            return Http.get(managementPort, "localhost", "/actuator/health/readiness").status();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    @Test
    void readyWithZeroAgents() {
        try (ConfigurableApplicationContext context = start()) {
            assertThat(context.getBean(AgentRegistry.class).agentCount()).isZero();

            Http.Reply readiness = Http.get(managementPort(context), "localhost", "/actuator/health/readiness");

            assertThat(readiness.status()).isEqualTo(200);
            assertThat(readiness.body()).contains("\"UP\"");
        }
    }

    @Test
    void notReadyWhileDraining() throws Exception {
        ConfigurableApplicationContext context = start();
        int publicPort = ((WebServerApplicationContext) context).getWebServer().getPort();
        int managementPort = managementPort(context);
        FakeAgent agent = FakeAgent.registered(context.getBean(TunnelServer.class).port(), "agent-ready", TOKEN,
                (a, request, body) -> {}, "ready.test");
        try {
            assertThat(readiness(managementPort)).isEqualTo(200);
            CompletableFuture<Http.Reply> inFlight = Http.client(publicPort, "ready.test").get().uri("/slow")
                    .responseSingle(Http::reply).toFuture();
            Frame.Request request = agent.await(Frame.Request.class, WAIT);

            CompletableFuture<Void> closing = CompletableFuture.runAsync(context::close);
            agent.await(Frame.Drain.class, WAIT);

            // draining: the in-flight request is still held by the agent
            assertThat(context.getBean(ApplicationAvailability.class).getReadinessState())
                    .isEqualTo(ReadinessState.REFUSING_TRAFFIC);
            assertThat(readiness(managementPort)).isNotEqualTo(200);

            agent.respond(request.streamId(), 200, List.of(), "done".getBytes(StandardCharsets.UTF_8));
            assertThat(inFlight.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            closing.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            agent.close();
            context.close();
        }
    }
}
