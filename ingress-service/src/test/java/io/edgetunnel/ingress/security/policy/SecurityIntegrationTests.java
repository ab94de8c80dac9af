package io.edgetunnel.ingress.security.policy;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.admin.TunnelsEndpoint;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.security.iam.FakeSts;
import io.edgetunnel.ingress.security.iam.ProofFixture;
import io.edgetunnel.ingress.security.secrets.SecretsStubs;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressAwsCredentials;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.testsupport.NoLeaks;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The real ingress with its security wiring: tokens from Secrets Manager (WireMock, real SDK),
 * host policy, the IAM proof sent to a SigV4-checking fake STS, counters by reason, the admin
 * listing, and no secret in any log line.
 */
@ExtendWith({NoLeaks.class, OutputCaptureExtension.class})
class SecurityIntegrationTests {

    private static final String TOKEN_A = "team-a-token-7b1e0c9d";
    private static final String TOKEN_B = "team-b-token-41f2aa03";
    private static final String TOKEN_A2 = "team-a-token-rotated-5c3d";
    private static final String INGRESS_SECRET_KEY = "ingressOwnSecretKey/EXAMPLE+do-not-log-0001";
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static WireMockExtension aws = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    @RegisterExtension
    static WireMockExtension sts = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    @RegisterExtension
    static WireMockExtension agentChosen = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private final List<FakeAgent> agents = new ArrayList<>();
    /** The ingress's own role, through the SDK default chain. */
    @RegisterExtension
    static IngressAwsCredentials credentials = new IngressAwsCredentials("AKIAINGRESSOWNROLE01", INGRESS_SECRET_KEY);

    private ConfigurableApplicationContext context;

    @AfterEach
    void close() {
        agents.forEach(FakeAgent::close);
        if (context != null) {
            context.close();
        }
    }

    private ConfigurableApplicationContext start(String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.aws.region=eu-west-1", "--ingress.aws.endpoint-override=" + aws.baseUrl(),
                "--ingress.aws.max-attempts=1",
                // STS here is WireMock recomputing SigV4; on a loaded CI machine its first answer can
                // take longer than the 5 s default, and the timeout is not what these tests are about
                "--ingress.iam.timeout=30s",
                "--ingress.policy.rules[0].identity=token:team-a",
                "--ingress.policy.rules[0].hosts[0]=a.example.com",
                "--ingress.policy.rules[1].identity=token:team-b",
                "--ingress.policy.rules[1].hosts[0]=b.example.com",
                "--ingress.policy.rules[1].hosts[1]=*.b.example.com",
                "--ingress.policy.rules[2].identity=arn:aws:iam::111122223333:role/edge-agent-*",
                "--ingress.policy.rules[2].hosts[0]=iam.example.com"));
        args.addAll(Arrays.asList(extra));
        context = OwnEventLoops.apply(IngressApplication.application()).run(args.toArray(String[]::new));
        return context;
    }

    private Frame hello(String agentId, String token, String proof, String... hosts) {
        return hello(agentId, token, agent -> proof, hosts);
    }

    /** A hello whose proof signs the nonce of the connection it is sent on, as the agent's does. */
    private Frame hello(String agentId, String token, ProofFixture proof, String... hosts) {
        return hello(agentId, token, agent -> {
            proof.nonce = agent.nonce();
            return proof.encode();
        }, hosts);
    }

    private Frame hello(String agentId, String token, java.util.function.Function<FakeAgent, String> proofFor,
            String... hosts) {
        FakeAgent agent = FakeAgent.connect(context.getBean(TunnelServer.class).port(), "/tunnel");
        agents.add(agent);
        String proof = proofFor.apply(agent);
        List<RouteClaim> routes = Arrays.stream(hosts).map(RouteClaim::host).toList();
        agent.send(new Frame.Hello(ProtocolVersion.MIN, ProtocolVersion.MAX, agentId, token, proof, routes,
                Map.of("identity.verified", "false", "identity.mode", "warn")));
        return agent.next(WAIT);
    }

    /** Every reject message the ingress sent in this test: the error bodies agents see. */
    private final List<String> rejectMessages = new ArrayList<>();

    private void rejected(Frame frame, RejectReason reason) {
        assertThat(frame).isInstanceOfSatisfying(Frame.Reject.class, r -> {
            assertThat(r.reason()).isEqualTo(reason);
            rejectMessages.add(r.message());
        });
    }

    /** A GET on the management port: the admin listing or the Prometheus scrape. */
    private String management(String path) throws Exception {
        int port = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return response.body();
    }

    private double rejections(RejectReason reason) {
        return context.getBean(IngressMetrics.class).registrations("rejected", reason.name());
    }

    private TunnelsEndpoint.TunnelView listed(String agentId) {
        return context.getBean(TunnelsEndpoint.class).tunnels().agents().stream()
                .filter(a -> a.agentId().equals(agentId))
                .findFirst().orElseThrow().tunnels().get(0);
    }

    private void secret(String current, String previous) {
        aws.resetAll();
        SecretsStubs.version(aws, "AWSCURRENT", current);
        if (previous == null) {
            SecretsStubs.noVersion(aws, "AWSPREVIOUS");
        } else {
            SecretsStubs.version(aws, "AWSPREVIOUS", previous);
        }
    }

    @Test
    void tokensFromSecretsManagerPolicyRotationCountersAndNoSecretAnywhere(CapturedOutput output) throws Exception {
        secret("{\"team-a\":\"" + TOKEN_A + "\",\"team-b\":\"" + TOKEN_B + "\"}", null);
        start("--ingress.auth.mode=token", "--ingress.auth.token-secret-id=" + SecretsStubs.SECRET_ID,
                "--ingress.auth.unknown-token-refresh-min-interval=0s",
                "--ingress.policy.failed-hellos.free-failures=100");

        // allowed: own hosts, wildcard included
        assertThat(hello("agent-a", TOKEN_A, "", "a.example.com")).isInstanceOf(Frame.Accept.class);
        assertThat(hello("agent-b", TOKEN_B, "", "b.example.com", "x.b.example.com")).isInstanceOf(Frame.Accept.class);
        TunnelsEndpoint.TunnelView a = listed("agent-a");
        assertThat(a.identity()).isEqualTo("token:team-a");
        assertThat(a.verifiedBy()).isEqualTo("token");
        assertThat(a.selfCheck()).isFalse(); // a JSON boolean, not the string "false"

        // denied: another identity's host, even with team-b already registered
        double hostRejections = rejections(RejectReason.HOST_NOT_ALLOWED);
        rejected(hello("agent-a2", TOKEN_A, "", "b.example.com"), RejectReason.HOST_NOT_ALLOWED);
        rejected(hello("agent-a3", TOKEN_A, "", "*.example.com"), RejectReason.HOST_NOT_ALLOWED);
        assertThat(rejections(RejectReason.HOST_NOT_ALLOWED)).isEqualTo(hostRejections + 2);

        // a stranger
        double badCredentials = rejections(RejectReason.BAD_CREDENTIALS);
        rejected(hello("intruder", "guessed-token", "", "a.example.com"), RejectReason.BAD_CREDENTIALS);
        assertThat(rejections(RejectReason.BAD_CREDENTIALS)).isEqualTo(badCredentials + 1);

        // rotation during operation: the new token is picked up on first sight, the old one still works
        secret("{\"team-a\":\"" + TOKEN_A2 + "\",\"team-b\":\"" + TOKEN_B + "\"}",
                "{\"team-a\":\"" + TOKEN_A + "\",\"team-b\":\"" + TOKEN_B + "\"}");
        assertThat(hello("agent-a4", TOKEN_A2, "", "a.example.com")).isInstanceOf(Frame.Accept.class);
        assertThat(hello("agent-a5", TOKEN_A, "", "a.example.com")).isInstanceOf(Frame.Accept.class);

        // Secrets Manager turns unavailable: the ingress keeps what it has
        aws.resetAll();
        SecretsStubs.error(aws, "AWSCURRENT", "AccessDeniedException", "not authorized");
        rejected(hello("intruder-2", "another-guess", "", "a.example.com"), RejectReason.BAD_CREDENTIALS);
        assertThat(hello("agent-a6", TOKEN_A2, "", "a.example.com")).isInstanceOf(Frame.Accept.class);

        // after a run with failures, no secret in the admin listing, the metrics or the reject messages
        String listing = management("/actuator/tunnels");
        String metrics = management("/actuator/prometheus");
        assertThat(listing).contains("\"identity\":\"token:team-a\"");
        assertThat(metrics).contains("reason=\"BAD_CREDENTIALS\"");
        assertThat(rejectMessages).hasSize(4);
        context.close();
        String logs = output.getAll();
        assertThat(logs).contains("HOST_NOT_ALLOWED").contains("BAD_CREDENTIALS").contains("AccessDeniedException");
        for (String secret : List.of(TOKEN_A, TOKEN_B, TOKEN_A2, "guessed-token", "another-guess", INGRESS_SECRET_KEY)) {
            assertThat(logs).as("logs must not contain a secret").doesNotContain(secret);
            assertThat(listing).as("the admin listing must not contain a secret").doesNotContain(secret);
            assertThat(metrics).as("metrics must not contain a secret").doesNotContain(secret);
            assertThat(rejectMessages).as("reject messages must not contain a secret")
                    .allSatisfy(message -> assertThat(message).doesNotContain(secret));
        }
    }

    @Test
    void iamProofIsVerifiedWithTheConfiguredStsAndNeverAnAgentChosenUrl(CapturedOutput output) throws Exception {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        URI stsUrl = URI.create(sts.baseUrl() + "/");
        start("--ingress.auth.mode=iam", "--ingress.iam.server-id=ingress.test", "--ingress.iam.sts-url=" + stsUrl,
                "--ingress.iam.allowed-accounts=" + FakeSts.ACCOUNT);

        ProofFixture proof = new ProofFixture(stsUrl);
        proof.serverId = "ingress.test";
        assertThat(hello("iam-agent", "", proof, "iam.example.com")).isInstanceOf(Frame.Accept.class);
        TunnelsEndpoint.TunnelView view = listed("iam-agent");
        assertThat(view.identity()).isEqualTo(FakeSts.ROLE_ARN);
        assertThat(view.verifiedBy()).isEqualTo("iam");

        // the role may not claim a host policy gives a token identity
        rejected(hello("iam-agent-2", "", proof, "a.example.com"), RejectReason.HOST_NOT_ALLOWED);

        // a proof naming another URL is refused without dialling it; no proof at all likewise
        ProofFixture foreign = new ProofFixture(URI.create(agentChosen.baseUrl() + "/"));
        foreign.serverId = "ingress.test";
        double unverified = rejections(RejectReason.IDENTITY_UNVERIFIED);
        rejected(hello("iam-agent-3", "", foreign, "iam.example.com"), RejectReason.IDENTITY_UNVERIFIED);
        rejected(hello("iam-agent-4", "", "", "iam.example.com"), RejectReason.IDENTITY_UNVERIFIED);
        assertThat(rejections(RejectReason.IDENTITY_UNVERIFIED)).isEqualTo(unverified + 2);
        agentChosen.verify(0, anyRequestedFor(anyUrl()));

        // a proof captured from one connection, replayed on another within the clock window: refused
        // before STS is asked, because it signs the first connection's nonce
        ProofFixture captured = new ProofFixture(stsUrl);
        captured.serverId = "ingress.test";
        captured.nonce = io.edgetunnel.protocol.ConnectionNonce.next();
        int stsCalls = sts.getAllServeEvents().size();
        Frame replayed = hello("iam-agent-5", "", captured.encode(), "iam.example.com");
        rejected(replayed, RejectReason.IDENTITY_UNVERIFIED);
        assertThat(((Frame.Reject) replayed).message()).contains("signed nonce is not this connection's");
        assertThat(sts.getAllServeEvents()).hasSize(stsCalls);

        String listing = management("/actuator/tunnels");
        String metrics = management("/actuator/prometheus");
        context.close();
        for (String secret : List.of(FakeSts.SECRET_KEY, FakeSts.SESSION_TOKEN, INGRESS_SECRET_KEY)) {
            assertThat(output.getAll()).as("logs").doesNotContain(secret);
            assertThat(listing).as("admin listing").doesNotContain(secret);
            assertThat(metrics).as("metrics").doesNotContain(secret);
            assertThat(rejectMessages).as("reject messages").allSatisfy(m -> assertThat(m).doesNotContain(secret));
        }
    }

    @Test
    void tokenAndIamModeNeedsBothAndTheIdentityIsTheRole() throws Exception {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        URI stsUrl = URI.create(sts.baseUrl() + "/");
        start("--ingress.auth.mode=token-and-iam", "--ingress.auth.token=" + TOKEN_A, "--ingress.auth.token-name=team-a",
                "--ingress.iam.server-id=ingress.test", "--ingress.iam.sts-url=" + stsUrl,
                "--ingress.iam.allowed-accounts=" + FakeSts.ACCOUNT, "--ingress.policy.failed-hellos.free-failures=100");
        ProofFixture proof = new ProofFixture(stsUrl);
        proof.serverId = "ingress.test";

        assertThat(hello("both", TOKEN_A, proof, "iam.example.com")).isInstanceOf(Frame.Accept.class);
        TunnelsEndpoint.TunnelView view = listed("both");
        assertThat(view.identity()).isEqualTo(FakeSts.ROLE_ARN);
        assertThat(view.verifiedBy()).isEqualTo("token-and-iam");

        rejected(hello("proof-only", "", proof, "iam.example.com"), RejectReason.BAD_CREDENTIALS);
        rejected(hello("proof-wrong-token", "guessed-token", proof, "iam.example.com"),
                RejectReason.BAD_CREDENTIALS);
        rejected(hello("token-only", TOKEN_A, "", "iam.example.com"), RejectReason.IDENTITY_UNVERIFIED);
        // the identity is the role, so a host policy gives only the token name stays out of reach
        rejected(hello("both-other-host", TOKEN_A, proof, "a.example.com"), RejectReason.HOST_NOT_ALLOWED);
        assertThat(management("/actuator/tunnels")).contains("\"verifiedBy\":\"token-and-iam\"")
                .doesNotContain(TOKEN_A).doesNotContain(FakeSts.SESSION_TOKEN);
    }

    @Test
    void failedHellosFromOneSourceGetRateLimited() {
        start("--ingress.auth.token=the-right-token", "--ingress.policy.when-empty=allow",
                "--ingress.policy.failed-hellos.free-failures=2", "--ingress.policy.failed-hellos.initial-delay=1m");
        rejected(hello("g1", "guess-1", "", "a.example.com"), RejectReason.BAD_CREDENTIALS);
        rejected(hello("g2", "guess-2", "", "a.example.com"), RejectReason.BAD_CREDENTIALS);
        rejected(hello("g3", "guess-3", "", "a.example.com"), RejectReason.BAD_CREDENTIALS);
        double limited = rejections(RejectReason.RATE_LIMITED);
        rejected(hello("g4", "the-right-token", "", "a.example.com"), RejectReason.RATE_LIMITED);
        assertThat(rejections(RejectReason.RATE_LIMITED)).isEqualTo(limited + 1);
    }
    @Test
    void helloOverTheSizeLimitIsRejectedAndCounted() {
        start("--ingress.auth.token=the-right-token", "--ingress.auth.token-name=team-a",
                "--ingress.policy.max-hello-bytes=2048");
        double invalid = rejections(RejectReason.INVALID_HELLO);
        rejected(hello("big", "the-right-token", "x".repeat(5000), "a.example.com"), RejectReason.INVALID_HELLO);
        assertThat(rejections(RejectReason.INVALID_HELLO)).isEqualTo(invalid + 1);
        assertThat(rejectMessages.get(0)).contains("ingress.policy.max-hello-bytes");
        assertThat(hello("small", "the-right-token", "", "a.example.com")).isInstanceOf(Frame.Accept.class);
    }

    @Test
    void tunnelsPerIdentityAreCountedFromTheRegistry() {
        start("--ingress.auth.token=the-right-token", "--ingress.auth.token-name=team-a",
                "--ingress.policy.max-tunnels-per-identity=1");
        assertThat(hello("first", "the-right-token", "", "a.example.com")).isInstanceOf(Frame.Accept.class);
        double tooMany = rejections(RejectReason.TOO_MANY_TUNNELS);
        rejected(hello("second", "the-right-token", "", "a.example.com"), RejectReason.TOO_MANY_TUNNELS);
        assertThat(rejections(RejectReason.TOO_MANY_TUNNELS)).isEqualTo(tooMany + 1);
        agents.get(0).close();
        org.awaitility.Awaitility.await().atMost(WAIT)
                .until(() -> context.getBean(io.edgetunnel.ingress.registry.AgentRegistry.class).tunnelCount() == 0);
        assertThat(hello("third", "the-right-token", "", "a.example.com")).isInstanceOf(Frame.Accept.class);
    }

    @Test
    void prodProfileRequiresIamAndDeniesHostsWithoutPolicy() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OwnEventLoops.apply(IngressApplication.application())
                        .run("--spring.profiles.active=prod", "--server.port=0", "--management.server.port=0",
                                "--ingress.tunnel.port=0", "--ingress.auth.token=t", "--ingress.aws.region=eu-west-1"))
                .hasStackTraceContaining("ingress.iam.server-id: empty");

        FakeSts.install(sts, FakeSts.CALLER_ARN);
        URI stsUrl = URI.create(sts.baseUrl() + "/");
        // per-host claims are the prod default: they need the cluster whose instances name the hosts
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OwnEventLoops.apply(IngressApplication.application())
                        .run("--spring.profiles.active=prod", "--server.port=0", "--management.server.port=0",
                                "--ingress.tunnel.port=0", "--ingress.iam.server-id=ingress.test",
                                "--ingress.aws.region=eu-west-1"))
                .hasStackTraceContaining("ingress.ecs.hosts-tag=edge-tunnel.hosts needs the ECS task check");
        context = OwnEventLoops.apply(IngressApplication.application()).run("--spring.profiles.active=prod",
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.iam.server-id=ingress.test", "--ingress.iam.sts-url=" + stsUrl, "--ingress.iam.timeout=30s",
                "--ingress.iam.allowed-accounts=" + FakeSts.ACCOUNT, "--ingress.ecs.hosts-tag=",
                "--ingress.policy.when-empty=auto");
        ProofFixture proof = new ProofFixture(stsUrl);
        proof.serverId = "ingress.test";
        Frame answer = hello("prod-agent", "", proof, "iam.example.com");
        assertThat(answer).isInstanceOfSatisfying(Frame.Reject.class, r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.HOST_NOT_ALLOWED);
            assertThat(r.message()).contains("is in no policy rule");
        });
    }
}
