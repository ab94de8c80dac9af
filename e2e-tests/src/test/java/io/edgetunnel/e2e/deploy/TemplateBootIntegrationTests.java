package io.edgetunnel.e2e.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.edgetunnel.e2e.ImagePom;
import io.edgetunnel.e2e.support.FreePorts;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.RedisServer;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each shipped environment booted from its CloudFormation templates: the ingress and the agent run
 * as their jars with exactly the environment their task definitions give them under that
 * environment's parameter files, secrets resolved as ECS injects them, the edge stack's imports
 * taken from the ingress stack's exports. Only what AWS itself stands in for is replaced, each
 * listed in {@link #INGRESS_STAND_INS} and {@link #AGENT_STAND_INS}: ports (ECS networking), the
 * ALB's TLS listener (the agent dials the tunnel port directly), the cache (a local Redis without
 * TLS), the AWS endpoints and what ECS provides a task (credentials, task metadata), and the local
 * apps' ports. The agent must be accepted and serve its routes.
 */
class TemplateBootIntegrationTests {

    private static final Path DEPLOY = Path.of("../deploy/cloudformation");
    private static final Path INGRESS_JAR = Path.of("../ingress-service/target/ingress-service-0.1.0-SNAPSHOT-exec.jar");
    private static final Path AGENT_JAR = Path.of("../edge-agent/target/edge-agent-0.1.0-SNAPSHOT-exec.jar");
    private static final Duration START = Duration.ofSeconds(90);
    /** The role name CloudFormation generates for the edge stack's AgentTaskRole (stack-logicalId-suffix). */
    private static final String AGENT_ROLE = "edge-tunnel-%s-edge-AgentTaskRole-AbC123dEf456";

    static final List<String> INGRESS_STAND_INS = List.of("SERVER_PORT", "MANAGEMENT_SERVER_PORT",
            "INGRESS_TUNNEL_PORT", "INGRESS_CLUSTER_PORT", "INGRESS_CLUSTER_REDIS_URL", "INGRESS_AWS_ENDPOINT_OVERRIDE",
            "INGRESS_IAM_STS_URL", "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    static final List<String> AGENT_STAND_INS = List.of("AGENT_INGRESS_URI", "SERVER_PORT",
            "AGENT_AWS_ENDPOINT_OVERRIDE", "AGENT_IDENTITY_PROOF_STS_URL", "ECS_CONTAINER_METADATA_URI_V4",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AGENT_ROUTES");

    private final List<AutoCloseable> running = new ArrayList<>();

    @BeforeAll
    static void jarsAndRedis() {
        RedisServer.assumeAvailable();
        assertThat(INGRESS_JAR).as("built by the ingress-service module").exists();
        assertThat(AGENT_JAR).as("built by the edge-agent module").exists();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = running.size() - 1; i >= 0; i--) {
            running.get(i).close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dev", "prod"})
    void theAgentIsAcceptedAndServesItsRoutes(String env) throws Exception {
        CfnTemplate ingressStack = new CfnTemplate(DEPLOY.resolve("ingress.yaml"),
                DEPLOY.resolve("params/" + env + "-ingress.json"), "edge-tunnel-" + env + "-ingress", Map.of());
        CfnTemplate edgeStack = new CfnTemplate(DEPLOY.resolve("edge.yaml"), DEPLOY.resolve("params/" + env + "-edge.json"),
                "edge-tunnel-" + env + "-edge", ingressStack.exports());
        CfnTemplate.ContainerEnvironment ingressEnv = ingressStack.container("ingress-service");
        CfnTemplate.ContainerEnvironment agentEnv = edgeStack.container("edge-agent");
        String cluster = ingressStack.exports().get("edge-tunnel-" + env + "-ingress-ClusterName");

        FakeAwsAccount aws = keep(new FakeAwsAccount(cluster, AGENT_ROLE.formatted(env)));
        // the secrets the stacks create, with the values an operator put in
        for (Map<String, String> secrets : List.of(ingressEnv.secrets(), agentEnv.secrets())) {
            secrets.values().forEach(arn -> aws.secret(arn, "secret-value-of-" + arn.hashCode() + "-0123456789abcdef0123456789"));
        }
        List.of(ingressEnv.environment().get("INGRESS_AUTH_TOKEN_SECRET_ID"), agentEnv.environment().get("AGENT_TOKEN_SECRET_ID"))
                .forEach(arn -> aws.secret(arn, "the-shared-tunnel-token-from-secrets-manager"));

        // the local apps of the agent's routes, one per target, on free ports
        Map<String, String> routes = routeTargets(agentEnv.environment().get("AGENT_ROUTES"));
        String localRoutes = agentEnv.environment().get("AGENT_ROUTES");
        for (Map.Entry<String, String> route : routes.entrySet()) {
            int port = keep(new NamedApp(route.getKey())).port();
            localRoutes = localRoutes.replace(route.getValue(), "http://127.0.0.1:" + port);
        }
        // the routes this ECS Anywhere host serves: its managed instance's tag (the activation's tags)
        String tag = ingressEnv.environment().get("INGRESS_ECS_HOSTS_TAG");
        if (tag != null && !tag.isEmpty()) {
            aws.instanceTag(tag, String.join(" ", routes.keySet()));
        }

        RedisServer redis = keep(RedisServer.start());
        int[] ports = FreePorts.take(5);
        Map<String, String> ingressStandIns = new LinkedHashMap<>();
        ingressStandIns.put("SERVER_PORT", String.valueOf(ports[0]));
        ingressStandIns.put("MANAGEMENT_SERVER_PORT", String.valueOf(ports[1]));
        ingressStandIns.put("INGRESS_TUNNEL_PORT", String.valueOf(ports[2]));
        ingressStandIns.put("INGRESS_CLUSTER_PORT", String.valueOf(ports[3]));
        ingressStandIns.put("INGRESS_CLUSTER_REDIS_URL", redis.url());
        ingressStandIns.put("INGRESS_AWS_ENDPOINT_OVERRIDE", aws.url());
        ingressStandIns.put("INGRESS_IAM_STS_URL", aws.url() + "/");
        ingressStandIns.put("AWS_CONTAINER_CREDENTIALS_FULL_URI", aws.url() + "/credentials");
        assertThat(ingressStandIns.keySet()).containsExactlyElementsOf(INGRESS_STAND_INS);
        Process ingress = start("ingress-" + env, INGRESS_JAR, List.of(), environment(ingressEnv, aws, ingressStandIns));

        Map<String, String> agentStandIns = new LinkedHashMap<>();
        agentStandIns.put("AGENT_INGRESS_URI", "ws://127.0.0.1:" + ports[2] + "/tunnel");
        agentStandIns.put("SERVER_PORT", String.valueOf(ports[4]));
        agentStandIns.put("AGENT_AWS_ENDPOINT_OVERRIDE", aws.url());
        agentStandIns.put("AGENT_IDENTITY_PROOF_STS_URL", aws.url() + "/");
        agentStandIns.put("ECS_CONTAINER_METADATA_URI_V4", aws.url() + "/metadata");
        agentStandIns.put("AWS_CONTAINER_CREDENTIALS_FULL_URI", aws.url() + "/credentials");
        agentStandIns.put("AGENT_ROUTES", localRoutes);
        assertThat(agentStandIns.keySet()).containsExactlyElementsOf(AGENT_STAND_INS);
        Process agent = start("agent-" + env, AGENT_JAR, imageSystemProperties("edge-agent"),
                environment(agentEnv, aws, agentStandIns));

        await().atMost(START).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(ingress.isAlive()).as("ingress running").isTrue();
            assertThat(agent.isAlive()).as("agent running").isTrue();
            assertThat(status(ports[4], "/actuator/health/readiness")).as("agent ready (registered)").isEqualTo(200);
        });
        for (String host : routes.keySet()) {
            String hostOnly = host.contains("/") ? host.substring(0, host.indexOf('/')) : host;
            String path = host.contains("/") ? host.substring(host.indexOf('/')) + "/name" : "/name";
            PublicClient.Reply reply = PublicClient.to(ports[0], hostOnly).get().uri(path)
                    .responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
            assertThat(reply.status()).as(host).isEqualTo(200);
            assertThat(reply.body()).as(host).isEqualTo(host);
        }
        String listing = get(ports[1], "/actuator/tunnels").body();
        if (ingressEnv.environment().get("INGRESS_AUTH_MODE").contains("iam")) {
            // verified through STS with a proof bound to its connection, and named per host
            assertThat(aws.replayedProofs()).isNotEmpty().allSatisfy(headers -> {
                assertThat(headers.get("x-edge-tunnel-server-id")).isEqualTo(ingressEnv.environment().get("INGRESS_IAM_SERVER_ID"));
                assertThat(headers.get("x-edge-tunnel-nonce")).isNotBlank();
            });
            assertThat(listing).contains(":role/" + AGENT_ROLE.formatted(env) + "@" + FakeAwsAccount.INSTANCE_ID);
        }
        assertThat(listing).doesNotContain("the-shared-tunnel-token-from-secrets-manager");
    }

    /** The container's environment: the template's, its secrets' values (as ECS injects them), the stand-ins. */
    private static Map<String, String> environment(CfnTemplate.ContainerEnvironment container, FakeAwsAccount aws,
            Map<String, String> standIns) {
        Map<String, String> environment = new LinkedHashMap<>(container.environment());
        container.secrets().forEach((name, arn) -> environment.put(name, aws.secretValue(arn)));
        environment.putAll(standIns);
        return environment;
    }

    /** {@code host[/path]=http://target[;options],…} → route → target URL. */
    private static Map<String, String> routeTargets(String routes) {
        Map<String, String> targets = new LinkedHashMap<>();
        Matcher m = Pattern.compile("([^,=]+)=(https?://[^,;]+)").matcher(routes);
        while (m.find()) {
            targets.put(m.group(1), m.group(2));
        }
        assertThat(targets).as("AGENT_ROUTES " + routes).isNotEmpty();
        return targets;
    }

    /**
     * The {@code -D} options of the module's image (e.g. the agent's {@code -Dspring.aot.enabled=true}:
     * its image runs the bean definitions generated at build time, so the templates' environments must
     * boot with them); its {@code -XX} sizing is left out, as the heap below stands in for the limit.
     */
    private static List<String> imageSystemProperties(String module) throws Exception {
        return List.of(ImagePom.javaToolOptions(module).split("\\s+")).stream().filter(o -> o.startsWith("-D")).toList();
    }

    private Process start(String name, Path jar, List<String> jvmOptions, Map<String, String> environment)
            throws IOException {
        File log = Files.createTempFile("template-boot-" + name, ".log").toFile();
        log.deleteOnExit();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log);
        // a clean environment: nothing of this machine's leaks in (AWS profiles, a PATH-found token)
        builder.environment().keySet().retainAll(List.of("PATH", "HOME", "TMPDIR", "LANG"));
        builder.environment().putAll(environment);
        Process process = builder.start();
        running.add(() -> {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            if (process.exitValue() != 0 && process.exitValue() != 143) {
                System.out.println("=== " + name + " log ===\n" + Files.readString(log.toPath()));
            }
        });
        running.add(() -> System.out.println("=== " + name + " log (last lines) ===\n" + tail(log.toPath())));
        return process;
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private <T extends AutoCloseable> T keep(T closeable) {
        running.add(closeable);
        return closeable;
    }

    private static int status(int port, String path) {
        try {
            return get(port, path).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A local app that answers every path with its route's name. */
    private static final class NamedApp implements AutoCloseable {
        private final HttpServer server;

        NamedApp(String name) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", exchange -> {
                byte[] body = name.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
