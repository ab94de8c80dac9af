package io.edgetunnel.ingress.deploy;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.support.IngressAwsCredentials;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.testsupport.NoLeaks;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The real ingress with {@code ingress.drain.watch-task} on, its own task metadata from a fake v4
 * endpoint, and {@code ecs:DescribeTasks} answered by WireMock through the real SDK: the ingress
 * drains when ECS starts stopping its task, keeps serving what is in flight, and neither drains nor
 * stops watching while ECS says RUNNING or the call fails. Waits count polls, never wall time.
 */
@ExtendWith(NoLeaks.class)
class DeregistrationWatcherIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String TOKEN = "deregistration-token";
    private static final String HOST = "deploy.test";

    @RegisterExtension
    static WireMockExtension ecs = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private final List<AutoCloseable> resources = new ArrayList<>();
    private FakeTaskMetadata metadata;
    /** The task role, through the SDK default chain. */
    @RegisterExtension
    static IngressAwsCredentials credentials =
            new IngressAwsCredentials("AKIAINGRESSTASKROLE1", "ingressTaskRoleSecret/EXAMPLE+do-not-log-0002");

    private ConfigurableApplicationContext context;

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable resource : resources) {
            resource.close();
        }
        if (context != null) {
            context.close();
        }
        if (metadata != null) {
            metadata.close();
        }
    }

    private ConfigurableApplicationContext start(String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=" + TOKEN, "--ingress.tunnel.drain-timeout=5s",
                "--ingress.aws.region=eu-west-1", "--ingress.aws.ecs-endpoint=" + ecs.baseUrl(),
                "--ingress.aws.max-attempts=1", "--ingress.aws.api-call-timeout=10s",
                "--ingress.drain.watch-task=true", "--ingress.drain.watch-interval=100ms"));
        args.addAll(Arrays.asList(extra));
        context = OwnEventLoops.apply(IngressApplication.application()).run(args.toArray(String[]::new));
        return context;
    }

    private ConfigurableApplicationContext startOnFargate() {
        metadata = new FakeTaskMetadata(FakeTaskMetadata.FARGATE_TASK);
        return start("--ingress.drain.task-metadata-uri=" + metadata.base());
    }

    private FakeAgent agent(String id) {
        FakeAgent agent = FakeAgent.registered(context.getBean(TunnelServer.class).port(), id, TOKEN,
                (a, request, body) -> {}, HOST);
        resources.add(agent);
        return agent;
    }

    private ReadinessState readiness() {
        return context.getBean(ApplicationAvailability.class).getReadinessState();
    }

    private int readinessStatus() {
        int port = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
        return Http.get(port, "localhost", "/actuator/health/readiness").status();
    }

    private double meter(String name, String... tags) {
        MeterRegistry registry = context.getBean(MeterRegistry.class);
        return name.endsWith(".draining")
                ? registry.get(name).gauge().value()
                : registry.get(name).tags(tags).counter().count();
    }

    /** Lets the watcher poll {@code polls} more times with the current stub. */
    private void awaitPolls(int polls) {
        int target = EcsTaskStubs.calls(ecs) + polls;
        await().atMost(WAIT).until(() -> EcsTaskStubs.calls(ecs) >= target);
    }

    @Test
    void drainsAheadOfSigtermWhenEcsStartsStoppingTheTaskAndFinishesWhatIsInFlight() throws Exception {
        EcsTaskStubs.running(ecs);
        startOnFargate();
        int publicPort = ((WebServerApplicationContext) context).getWebServer().getPort();
        FakeAgent agent = agent("agent-deploy");
        CompletableFuture<Http.Reply> inFlight = Http.client(publicPort, HOST).get().uri("/slow")
                .responseSingle(Http::reply).toFuture();
        Frame.Request request = agent.await(Frame.Request.class, WAIT);

        // RUNNING / desired RUNNING: polled, nothing happens
        awaitPolls(3);
        assertThat(readiness()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
        assertThat(readinessStatus()).isEqualTo(200);
        assertThat(context.getBean(TunnelServer.class).draining()).isFalse();
        assertThat(meter("tunnel.ingress.deregistration.draining")).isZero();
        assertThat(meter("tunnel.ingress.deregistration.checks", "result", "running")).isGreaterThanOrEqualTo(3);

        // a deployment replaced the task: ECS sets desired STOPPED and deregisters its targets
        EcsTaskStubs.stopRequested(ecs);
        Frame.Drain drain = agent.await(Frame.Drain.class, WAIT);

        assertThat(drain.reason()).contains("deregistered");
        assertThat(readiness()).isEqualTo(ReadinessState.REFUSING_TRAFFIC);
        assertThat(readinessStatus()).isNotEqualTo(200);
        assertThat(meter("tunnel.ingress.deregistration.draining")).isEqualTo(1);
        assertThat(meter("tunnel.ingress.deregistration.checks", "result", "stopping")).isEqualTo(1);
        // the request that was in flight still completes through the draining tunnel
        agent.respond(request.streamId(), 200, List.of(), "finished".getBytes(StandardCharsets.UTF_8));
        Http.Reply reply = inFlight.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("finished");
        // and the process idles until SIGTERM: still running, still live
        assertThat(context.isRunning()).isTrue();
        int managementPort = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
        assertThat(Http.get(managementPort, "localhost", "/actuator/health/liveness").status()).isEqualTo(200);
        assertThat(metadata.reads()).isEqualTo(1);

        CompletableFuture<Void> sigterm = CompletableFuture.runAsync(context::close);
        sigterm.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void drainsWhenEcsAlreadyShowsTheTaskDeactivating() {
        EcsTaskStubs.deactivating(ecs);
        startOnFargate();
        FakeAgent agent = agent("agent-late");

        agent.await(Frame.Drain.class, WAIT);

        await().atMost(WAIT).until(() -> readiness() == ReadinessState.REFUSING_TRAFFIC);
        assertThat(meter("tunnel.ingress.deregistration.draining")).isEqualTo(1);
    }

    @Test
    void survivesMetadataAndDescribeTasksErrorsWithoutDraining() {
        metadata = new FakeTaskMetadata(FakeTaskMetadata.FARGATE_TASK);
        metadata.answer(500, "{}");
        EcsTaskStubs.running(ecs);
        start("--ingress.drain.task-metadata-uri=" + metadata.base());
        FakeAgent agent = agent("agent-errors");

        // the metadata endpoint fails first: retried at every interval until it answers
        await().atMost(WAIT).until(() -> metadata.reads() >= 3);
        assertThat(EcsTaskStubs.calls(ecs)).isZero();
        metadata.answer(200, FakeTaskMetadata.FARGATE_TASK);
        awaitPolls(1);

        EcsTaskStubs.throttled(ecs);
        awaitPolls(3);
        EcsTaskStubs.accessDenied(ecs);
        awaitPolls(3);
        EcsTaskStubs.connectionReset(ecs);
        awaitPolls(3);
        EcsTaskStubs.missing(ecs);
        awaitPolls(3);

        assertThat(readiness()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
        assertThat(context.getBean(TunnelServer.class).draining()).isFalse();
        assertThat(meter("tunnel.ingress.deregistration.draining")).isZero();
        assertThat(meter("tunnel.ingress.deregistration.checks", "result", "error")).isGreaterThanOrEqualTo(12);
        assertThat(context.getBean(DeregistrationWatcher.class).isRunning()).isTrue();

        // once ECS answers again, a stop is still noticed
        EcsTaskStubs.stopRequested(ecs);
        agent.await(Frame.Drain.class, WAIT);
        await().atMost(WAIT).until(() -> readiness() == ReadinessState.REFUSING_TRAFFIC);
    }

    @Test
    void watchTaskOutsideEcsOnlyWarns() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv(TaskMetadataReader.ENV) == null,
                "this JVM runs as an ECS task");
        start();

        assertThat(context.getBean(DeregistrationWatcher.class).isRunning()).isFalse();
        assertThat(readiness()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
        assertThat(meter("tunnel.ingress.deregistration.draining")).isZero();
    }
}
