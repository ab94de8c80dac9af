package io.edgetunnel.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.FileSystemResource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The deployment contract ({@code deploy/cloudformation/test/contract.json}, which the CloudFormation
 * checks also read) against what this service really binds: every environment variable a task
 * definition sets must reach a property in the generated configuration metadata or the
 * {@code agent*.yaml} files, so renaming a property breaks this test. Skipped when the contract
 * file is absent (a module built outside the repository).
 */
class ConfigurationContractTests {

    private static final String SERVICE = "agent";
    private static final Path CONTRACT = Path.of("../deploy/cloudformation/test/contract.json");
    private static final Path METADATA = Path.of("target/classes/META-INF/spring-configuration-metadata.json");
    private static final Path RESOURCES = Path.of("src/main/resources");
    /** Variables read by libraries rather than bound by Spring. */
    private static final Set<String> READ_OUTSIDE_SPRING = Set.of("AWS_REGION");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)[:}]");

    private static JsonNode contract;
    private static Set<String> ownProperties;
    private static Set<String> bootProperties;
    private static Map<String, Map<String, Object>> yaml;
    private static Set<String> placeholders;

    @BeforeAll
    static void load() throws IOException {
        assumeTrue(Files.isRegularFile(CONTRACT), "no " + CONTRACT.toAbsolutePath() + ": not in the repository");
        contract = JsonMapper.builder().build().readTree(CONTRACT.toFile()).get(SERVICE);
        assertThat(METADATA).as("configuration metadata (spring-boot-configuration-processor)").isRegularFile();
        ownProperties = names(JsonMapper.builder().build().readTree(METADATA.toFile()));
        bootProperties = new TreeSet<>();
        Enumeration<URL> all = ConfigurationContractTests.class.getClassLoader()
                .getResources("META-INF/spring-configuration-metadata.json");
        while (all.hasMoreElements()) {
            try (InputStream in = all.nextElement().openStream()) {
                bootProperties.addAll(names(JsonMapper.builder().build().readTree(in)));
            }
        }
        yaml = new LinkedHashMap<>();
        placeholders = new TreeSet<>();
        for (String profile : List.of("", "-local", "-dev", "-prod")) {
            Path file = RESOURCES.resolve(SERVICE + profile + ".yaml");
            Map<String, Object> flat = new LinkedHashMap<>();
            for (PropertySource<?> source : new YamlPropertySourceLoader().load(file.toString(), new FileSystemResource(file))) {
                EnumerablePropertySource<?> enumerable = (EnumerablePropertySource<?>) source;
                for (String name : enumerable.getPropertyNames()) {
                    flat.putIfAbsent(name, enumerable.getProperty(name).toString());
                }
            }
            yaml.put(profile.isEmpty() ? "default" : profile.substring(1), flat);
            Matcher matcher = PLACEHOLDER.matcher(Files.readString(file, StandardCharsets.UTF_8));
            while (matcher.find()) {
                placeholders.add(matcher.group(1));
            }
        }
    }

    private static Set<String> names(JsonNode metadata) {
        Set<String> names = new TreeSet<>();
        for (JsonNode property : metadata.path("properties")) {
            names.add(property.get("name").asString());
        }
        return names;
    }

    /** The properties this environment variable binds to under Spring's relaxed rules. */
    private static List<String> bindings(String env, Set<String> candidates) {
        ConfigurationPropertySource source = ConfigurationPropertySource.from(new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, Map.of(env, "x")));
        List<String> bound = new ArrayList<>();
        for (String candidate : candidates) {
            if (!ConfigurationPropertyName.isValid(candidate)) {
                continue;
            }
            ConfigurationPropertyName name = ConfigurationPropertyName.of(candidate);
            // a list or map also binds from indexed variables (INGRESS_POLICY_RULES_0_IDENTITY)
            if (source.getConfigurationProperty(name) != null
                    || source.containsDescendantOf(name) == ConfigurationPropertyState.PRESENT) {
                bound.add(candidate);
            }
        }
        return bound;
    }

    private static List<String> bindingsOf(String env, JsonNode spec) {
        // the service's own keys count only from the metadata: a key left in the YAML after a rename
        // binds to nothing (Spring ignores unknown keys), see yamlKeysOfTheServiceAreRealProperties
        Set<String> own = new TreeSet<>(ownProperties);
        yaml.values().forEach(flat -> flat.keySet().stream().filter(key -> !key.startsWith(SERVICE + ".")).forEach(own::add));
        List<String> bound = bindings(env, own);
        if (bound.isEmpty() && (spec.path("springStandard").asBoolean(false) || env.startsWith("SPRING_"))) {
            bound = bindings(env, bootProperties);
        }
        return bound;
    }

    @Test
    void everyEnvironmentVariableInTheContractBindsToARealProperty() {
        List<String> unbound = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : contract.get("env").properties()) {
            String env = entry.getKey();
            if (READ_OUTSIDE_SPRING.contains(env) || placeholders.contains(env)) {
                continue;
            }
            if (bindingsOf(env, entry.getValue()).isEmpty()) {
                unbound.add(env);
            }
        }
        assertThat(unbound).as("environment variables of the task definition that no property reads").isEmpty();
    }

    @Test
    void yamlKeysOfTheServiceAreRealProperties() {
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> file : yaml.entrySet()) {
            for (String key : file.getValue().keySet()) {
                if (!key.startsWith(SERVICE + ".")) {
                    continue;
                }
                // agent.routes[0].host -> agent.routes (a list of records is one property in the metadata)
                String property = key.replaceAll("\\[.*$", "");
                if (!ownProperties.contains(property)) {
                    unknown.add(file.getKey() + ": " + key);
                }
            }
        }
        assertThat(unknown).as("keys in %s*.yaml that no @ConfigurationProperties reads", SERVICE).isEmpty();
    }

    @Test
    void theTokenVariableIsReadThroughTheYamlPlaceholder() {
        assertThat(placeholders).contains(contract.path("tunnelTokenEnv").asString("TUNNEL_TOKEN"));
    }

    @Test
    void contractDefaultsAreTheProdDefaults() {
        for (Map.Entry<String, JsonNode> entry : contract.get("env").properties()) {
            JsonNode spec = entry.getValue();
            if (!spec.has("default")) {
                continue;
            }
            List<String> bound = bindingsOf(entry.getKey(), spec);
            assertThat(bound).as(entry.getKey()).isNotEmpty();
            String property = bound.get(0);
            Object actual = yaml.get("prod").getOrDefault(property, yaml.get("default").get(property));
            assertThat(actual).as("%s (%s) set in %s.yaml or %s-prod.yaml", entry.getKey(), property, SERVICE, SERVICE)
                    .isNotNull();
            String expected = spec.get("default").asString();
            if (spec.path("duration").asBoolean(false)) {
                assertThat(DurationStyle.detectAndParse(actual.toString()))
                        .as(property).isEqualTo(DurationStyle.detectAndParse(expected));
            } else {
                assertThat(actual.toString()).as(property).isEqualTo(expected);
            }
        }
    }

    @Test
    void managementPortAndPathsAreTheConfiguredOnes() {
        Map<String, Object> base = yaml.get("default");
        // the agent's only listener is the management one
        assertThat(base.get("server.port")).hasToString(contract.get("ports").get("management").asString());
        assertThat(base.get("management.endpoint.health.probes.enabled")).hasToString("true");
        assertThat(base.get("management.endpoints.web.exposure.include").toString()).contains("health", "prometheus");
        for (Map.Entry<String, JsonNode> path : contract.get("paths").properties()) {
            assertThat(path.getValue().asString()).startsWith("/actuator/");
        }
    }

    @Test
    void routesPatternOfTheTemplateIsAcceptedByTheRouteConverter() {
        Pattern routes = Pattern.compile(contract.get("routesPattern").asString());
        String example = "shop.example.com=http://127.0.0.1:3000,*.api.example.com/v1=http://127.0.0.1:4000;"
                + "health-check.path=/healthz?deep=1;health-check.interval=10s;health-check.failure-threshold=2;"
                + "protocol=h2c";
        assertThat(routes.matcher(example).matches()).isTrue();
        RouteStringConverter converter = new RouteStringConverter();
        for (String route : example.split(",")) {
            assertThat(converter.convert(route).localUrl()).isNotNull();
        }
        assertThat(converter.convert(example.split(",")[1]).healthCheck())
                .isEqualTo(new HealthCheck("/healthz?deep=1", Duration.ofSeconds(10), Duration.ofSeconds(2), 2, 2));
        assertThat(converter.convert(example.split(",")[1]).protocol()).isEqualTo(LocalProtocol.H2C);
        // an option the converter would refuse is refused by the template already
        assertThat(routes.matcher("shop.example.com=http://127.0.0.1:3000;health=/healthz").matches()).isFalse();
    }

    @Test
    void prodLogsAreStructuredEcsJsonAndLocalLogsAreHumanReadable() {
        assertThat(yaml.get("prod").get("logging.structured.format.console")).hasToString("ecs");
        assertThat(yaml.get("local")).doesNotContainKey("logging.structured.format.console");
        assertThat(yaml.get("default")).doesNotContainKey("logging.structured.format.console");
    }
}
