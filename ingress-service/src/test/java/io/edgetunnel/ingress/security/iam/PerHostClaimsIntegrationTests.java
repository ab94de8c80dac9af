package io.edgetunnel.ingress.security.iam;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressAwsCredentials;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One identity per host on the real ingress, as prod runs it: the hello's proof goes to STS, the
 * task to ECS, the host's grants come from its SSM managed-instance tag. A claim the tag does not
 * name, a longer prefix of a granted host included, is refused; what ECS attributes say is ignored.
 */
class PerHostClaimsIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String INSTANCE = "mi-0a1b2c3d4e5f60718";

    @RegisterExtension
    static WireMockExtension aws = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private final List<FakeAgent> agents = new ArrayList<>();
    /** The ingress's own role, through the SDK default chain. */
    @RegisterExtension
    static IngressAwsCredentials credentials =
            new IngressAwsCredentials("AKIAINGRESSOWNROLE01", "ingress-own-secret-key-per-host");

    private ConfigurableApplicationContext context;

    @AfterEach
    void close() {
        agents.forEach(FakeAgent::close);
        if (context != null) {
            context.close();
        }
    }

    @Test
    void aHostMayClaimExactlyWhatItsTagNames() {
        FakeSts.install(aws, FakeSts.CALLER_ARN);
        EcsStubs.describeTasks(aws, "EXTERNAL", "RUNNING");
        // root on the host can set its own ECS attributes: they must count for nothing
        EcsStubs.describeContainerInstances(aws, INSTANCE, Map.of("edge-tunnel.hosts", "victim.example.com"));
        EcsStubs.managedInstanceTags(aws, INSTANCE, Map.of("edge-tunnel.hosts", "app.example.com"));
        URI stsUrl = URI.create(aws.baseUrl() + "/");
        context = OwnEventLoops.apply(IngressApplication.application()).run(
                "--spring.profiles.active=prod", "--server.port=0", "--management.server.port=0",
                "--ingress.tunnel.port=0", "--ingress.aws.region=eu-west-1",
                "--ingress.aws.endpoint-override=" + aws.baseUrl(), "--ingress.aws.max-attempts=1",
                "--ingress.iam.server-id=ingress.test", "--ingress.iam.sts-url=" + stsUrl, "--ingress.iam.timeout=30s",
                "--ingress.iam.allowed-accounts=" + FakeSts.ACCOUNT, "--ingress.ecs.cluster=edge",
                "--ingress.policy.rules[0].identity=arn:aws:iam::111122223333:role/edge-agent-*",
                "--ingress.policy.rules[0].hosts[0]=*");

        Frame accepted = hello(stsUrl, new RouteClaim("app.example.com", "/"));
        assertThat(accepted).isInstanceOf(Frame.Accept.class);

        for (RouteClaim taken : List.of(new RouteClaim("app.example.com", "/login"),
                RouteClaim.host("victim.example.com"), RouteClaim.host("*.example.com"))) {
            assertThat(hello(stsUrl, taken)).as(taken.toString()).isInstanceOfSatisfying(Frame.Reject.class, r -> {
                assertThat(r.reason()).isEqualTo(RejectReason.HOST_NOT_ALLOWED);
                assertThat(r.message()).contains("route " + taken + " is not among the hosts this instance may serve");
            });
        }
    }

    private Frame hello(URI stsUrl, RouteClaim claim) {
        FakeAgent agent = FakeAgent.connect(context.getBean(TunnelServer.class).port(), "/tunnel");
        agents.add(agent);
        ProofFixture proof = new ProofFixture(stsUrl);
        proof.serverId = "ingress.test";
        proof.nonce = agent.nonce();
        agent.send(new Frame.Hello(ProtocolVersion.MIN, ProtocolVersion.MAX, "host-agent", "", proof.encode(),
                List.of(claim), Map.of()));
        return agent.next(WAIT);
    }
}
