package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.testsupport.NoLeaks;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;


@ExtendWith(NoLeaks.class)
class TunnelShutdownIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(15);

    @Test
    void shutdownDrainsTunnelsLetsInFlightRequestsFinishThenClosesGoingAway() throws Exception {
        SpringApplication application = OwnEventLoops.apply(IngressApplication.application());
        ConfigurableApplicationContext context = application.run(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=shutdown-token", "--ingress.tunnel.drain-timeout=5s");
        int publicPort = ((WebServerApplicationContext) context).getWebServer().getPort();
        int tunnelPort = context.getBean(TunnelServer.class).port();
        FakeAgent agent = FakeAgent.registered(tunnelPort, "agent-drain", "shutdown-token", (a, request, body) -> {},
                "shutdown.test");
        try {
            CompletableFuture<Http.Reply> inFlight = Http.client(publicPort, "shutdown.test").get().uri("/slow")
                    .responseSingle(Http::reply).toFuture();
            Frame.Request request = agent.await(Frame.Request.class, WAIT);

            CompletableFuture<Void> closing = CompletableFuture.runAsync(context::close);
            Frame.Drain drain = agent.await(Frame.Drain.class, WAIT);
            agent.respond(request.streamId(), 200, List.of(), "finished".getBytes(StandardCharsets.UTF_8));

            assertThat(drain.reason()).contains("shutting down");
            Http.Reply reply = inFlight.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            assertThat(reply.status()).isEqualTo(200);
            assertThat(reply.body()).isEqualTo("finished");
            assertThat(agent.closeStatus(WAIT)).isEqualTo(CloseCode.GOING_AWAY.code());
            closing.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            agent.close();
            context.close();
        }
    }
}
