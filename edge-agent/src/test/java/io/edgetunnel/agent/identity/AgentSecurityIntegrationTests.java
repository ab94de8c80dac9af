package io.edgetunnel.agent.identity;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static io.edgetunnel.agent.aws.AwsStubs.CALLER_ARN;
import static io.edgetunnel.agent.aws.AwsStubs.CLUSTER;
import static io.edgetunnel.agent.aws.AwsStubs.CLUSTER_ARN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.agent.aws.AwsStubs;
import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.agent.support.FakeIngress;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real agent with its security wiring: the self-check at startup (AWS in WireMock, real SDK),
 * the token from Secrets Manager re-read after BAD_CREDENTIALS, the IAM proof and the self-check
 * attributes in the hello, and no secret in the logs.
 */
@ExtendWith(OutputCaptureExtension.class)
class AgentSecurityIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String SECRET_ID = "edge/agent-token";

    @RegisterExtension
    static WireMockExtension aws = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void taskRoleCredentials() {
        System.setProperty("aws.accessKeyId", AwsStubs.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", AwsStubs.SECRET_KEY);
        System.setProperty("aws.sessionToken", AwsStubs.SESSION_TOKEN);
    }

    @AfterAll
    static void clear() {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        System.clearProperty("aws.sessionToken");
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private static void ecsAnywhere() {
        AwsStubs.metadata(aws, CLUSTER_ARN, "EXTERNAL");
        AwsStubs.callerIdentity(aws, CALLER_ARN);
        AwsStubs.describeTasks(aws, "EXTERNAL", "RUNNING");
        AwsStubs.describeContainerInstances(aws, "mi-0123456789abcdef0", "ACTIVE", true);
    }

    private AgentLauncher agent(FakeIngress ingress, String mode, Map<String, String> extra) {
        Map<String, String> properties = new HashMap<>();
        properties.put("agent.ingress-uri", ingress.uri());
        properties.put("agent.routes", "app.example.com=http://127.0.0.1:1");
        properties.put("agent.id", "secure-agent");
        properties.put("agent.reconnect.min-backoff", "50ms");
        properties.put("agent.reconnect.max-backoff", "200ms");
        properties.put("agent.identity.mode", mode);
        properties.put("agent.identity.cluster", CLUSTER);
        properties.put("agent.identity.metadata-uri", aws.baseUrl() + "/v4/meta");
        properties.put("agent.aws.region", AwsStubs.REGION);
        properties.put("agent.aws.endpoint-override", aws.baseUrl());
        properties.put("agent.aws.max-attempts", "1");
        properties.putAll(extra);
        AgentLauncher agent = AgentLauncher.start(properties);
        closeables.add(0, agent);
        return agent;
    }

    private FakeIngress ingress(java.util.function.Function<Frame.Hello, Frame> onHello) {
        FakeIngress ingress = new FakeIngress(0, onHello);
        closeables.add(ingress);
        return ingress;
    }

    @Test
    void verifiedAgentSendsTheSecretTokenTheProofAndItsSelfCheck(CapturedOutput output) throws Exception {
        ecsAnywhere();
        AwsStubs.secret(aws, SECRET_ID, "AWSCURRENT", "token-from-secret-v1");
        FakeIngress ingress = ingress(hello -> FakeIngress.accept(65536, 100, 1000));
        AgentLauncher agent = agent(ingress, "verify", Map.of(
                "agent.token-secret-id", SECRET_ID,
                "agent.identity.proof.enabled", "true",
                "agent.identity.proof.server-id", "tunnel.example.com"));

        Frame.Hello hello = ingress.awaitTunnel(WAIT).hello();
        assertThat(hello.token()).isEqualTo("token-from-secret-v1");
        assertThat(hello.attributes()).containsEntry("identity.verified", "true")
                .containsEntry("identity.mode", "verify")
                .containsEntry("identity.instance", "mi-0123456789abcdef0")
                .containsKey("agent.version");
        JsonNode proof = JsonMapper.builder().build().readTree(hello.identityProof());
        assertThat(proof.get("url").asString()).isEqualTo("https://sts.eu-west-1.amazonaws.com/");
        assertThat(proof.get("headers").toString()).contains("tunnel.example.com").contains(AwsStubs.ACCESS_KEY)
                .doesNotContain(AwsStubs.SECRET_KEY);
        assertThat(output.getAll()).doesNotContain("token-from-secret-v1").doesNotContain(AwsStubs.SECRET_KEY)
                .doesNotContain(AwsStubs.SESSION_TOKEN);
        assertNoSecretOnTheManagementPort(agent, "token-from-secret-v1", AwsStubs.SECRET_KEY, AwsStubs.SESSION_TOKEN);
    }

    /** The running agent's metrics and info hold none of {@code secrets}. */
    private static void assertNoSecretOnTheManagementPort(AgentLauncher agent, String... secrets) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (String path : List.of("/actuator/prometheus", "/actuator/info")) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + agent.managementPort() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path).isEqualTo(200);
            for (String secret : secrets) {
                assertThat(response.body()).as(path).doesNotContain(secret);
            }
        }
    }

    @Test
    void rejectedTokenIsReReadFromSecretsManager(CapturedOutput output) throws Exception {
        ecsAnywhere();
        AwsStubs.secret(aws, SECRET_ID, "AWSCURRENT", "token-before-rotation");
        FakeIngress ingress = ingress(hello -> "token-after-rotation".equals(hello.token())
                ? FakeIngress.accept(65536, 100, 1000)
                : new Frame.Reject(RejectReason.BAD_CREDENTIALS, "token not accepted"));
        AgentLauncher agent = agent(ingress, "verify",
                Map.of("agent.token-secret-id", SECRET_ID, "agent.token-refresh-min-interval", "0s"));

        assertThat(ingress.awaitTunnel(WAIT).hello().token()).isEqualTo("token-before-rotation");
        AwsStubs.secret(aws, SECRET_ID, "AWSCURRENT", "token-after-rotation");
        FakeIngress.Tunnel accepted = null;
        for (int i = 0; i < 20 && accepted == null; i++) {
            FakeIngress.Tunnel next = ingress.awaitTunnel(WAIT);
            if ("token-after-rotation".equals(next.hello().token())) {
                accepted = next;
            }
        }
        assertThat(accepted).as("a hello with the rotated token").isNotNull();
        assertThat(output.getAll()).contains("re-reading it from secret " + SECRET_ID)
                .doesNotContain("token-before-rotation").doesNotContain("token-after-rotation");
        assertNoSecretOnTheManagementPort(agent, "token-before-rotation", "token-after-rotation", AwsStubs.SECRET_KEY);
    }

    @Test
    void verifyModeRefusesToStartAndSaysWhichCheckFailed() {
        ecsAnywhere();
        AwsStubs.describeTasks(aws, "EC2", "RUNNING");
        FakeIngress ingress = ingress(hello -> FakeIngress.accept(65536, 100, 1000));
        assertThatThrownBy(() -> agent(ingress, "verify", Map.of("agent.token", "t")))
                .hasStackTraceContaining("describe-tasks: launch type: EC2 (expected: EXTERNAL");
        assertThat(ingress.tunnels()).isEmpty();
    }

    @Test
    void warnModeStartsAndAnnouncesItselfUnverified(CapturedOutput output) throws Exception {
        ecsAnywhere();
        AwsStubs.describeContainerInstances(aws, "i-0123456789abcdef0", "ACTIVE", true);
        FakeIngress ingress = ingress(hello -> FakeIngress.accept(65536, 100, 1000));
        agent(ingress, "warn", Map.of("agent.token", "plain-token-value"));
        Frame.Hello hello = ingress.awaitTunnel(WAIT).hello();
        assertThat(hello.attributes()).containsEntry("identity.verified", "false").containsEntry("identity.mode", "warn");
        assertThat(hello.identityProof()).isEmpty();
        assertThat(output.getAll()).contains("continuing unverified").contains("instance id: i-0123456789abcdef0")
                .doesNotContain("plain-token-value");
    }
}
