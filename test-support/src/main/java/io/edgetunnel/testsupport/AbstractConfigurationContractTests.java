package io.edgetunnel.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.boot.env.PropertiesPropertySourceLoader;
import org.springframework.boot.env.PropertySourceLoader;
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
 * checks also read) against what a service really binds: every environment variable a task
 * definition sets must reach a property in the generated configuration metadata or the
 * {@code SERVICE*.yaml} / {@code SERVICE*.properties} files, so renaming a property breaks the test. Skipped when the contract
 * file is absent (a module built outside the repository). Each service's {@code ConfigurationContractTests}
 * extends this with the service's name and what only it has (ports, route syntax). Run from the
 * service's module directory, as the build does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AbstractConfigurationContractTests {

    private static final Path CONTRACT = Path.of("../deploy/cloudformation/test/contract.json");
    private static final Path METADATA = Path.of("target/classes/META-INF/spring-configuration-metadata.json");
    private static final Path RESOURCES = Path.of("src/main/resources");
    /** Variables read by libraries rather than bound by Spring. */
    private static final Set<String> READ_OUTSIDE_SPRING = Set.of("AWS_REGION");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)[:}]");

    private final String service;
    /** This service's part of the contract. */
    protected JsonNode contract;
    private Set<String> ownProperties;
    private Set<String> bootProperties;
    /** Flattened {@code SERVICE.yaml} (or {@code .properties}) and profile files, by profile ({@code default}, {@code local}, {@code dev}, {@code prod}). */
    protected Map<String, Map<String, Object>> yaml;
    private Set<String> placeholders;

    /** @param service the configuration files' and the contract's name for the service: {@code ingress}, {@code agent} */
    protected AbstractConfigurationContractTests(String service) {
        this.service = service;
    }

    @BeforeAll
    void load() throws IOException {
        assumeTrue(Files.isRegularFile(CONTRACT), "no " + CONTRACT.toAbsolutePath() + ": not in the repository");
        contract = JsonMapper.builder().build().readTree(CONTRACT.toFile()).get(service);
        assertThat(METADATA).as("configuration metadata (spring-boot-configuration-processor)").isRegularFile();
        ownProperties = names(JsonMapper.builder().build().readTree(METADATA.toFile()));
        bootProperties = new TreeSet<>();
        Enumeration<URL> all = getClass().getClassLoader()
                .getResources("META-INF/spring-configuration-metadata.json");
        while (all.hasMoreElements()) {
            try (InputStream in = all.nextElement().openStream()) {
                bootProperties.addAll(names(JsonMapper.builder().build().readTree(in)));
            }
        }
        yaml = new LinkedHashMap<>();
        placeholders = new TreeSet<>();
        for (String profile : List.of("", "-local", "-dev", "-prod")) {
            Path file = configFile(service + profile);
            PropertySourceLoader loader = file.toString().endsWith(".properties")
                    ? new PropertiesPropertySourceLoader()
                    : new YamlPropertySourceLoader();
            Map<String, Object> flat = new LinkedHashMap<>();
            for (PropertySource<?> source : loader.load(file.toString(), new FileSystemResource(file))) {
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

    /** The service's file of that name: YAML (the ingress) or properties (the agent: no SnakeYAML at start). */
    private static Path configFile(String name) {
        for (String extension : List.of(".yaml", ".properties")) {
            Path file = RESOURCES.resolve(name + extension);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new AssertionError("no " + name + ".yaml or " + name + ".properties in " + RESOURCES.toAbsolutePath());
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

    private List<String> bindingsOf(String env, JsonNode spec) {
        // the service's own keys count only from the metadata: a key left in the YAML after a rename
        // binds to nothing (Spring ignores unknown keys), see yamlKeysOfTheServiceAreRealProperties
        Set<String> own = new TreeSet<>(ownProperties);
        yaml.values().forEach(flat -> flat.keySet().stream().filter(key -> !key.startsWith(service + ".")).forEach(own::add));
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
                if (!key.startsWith(service + ".")) {
                    continue;
                }
                // agent.routes[0].host -> agent.routes (a list of records is one property in the metadata)
                String property = key.replaceAll("\\[.*$", "");
                if (!ownProperties.contains(property)) {
                    unknown.add(file.getKey() + ": " + key);
                }
            }
        }
        assertThat(unknown).as("keys in %s*.yaml/.properties that no @ConfigurationProperties reads", service).isEmpty();
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
            assertThat(actual).as("%s (%s) set in %s.* or %s-prod.*", entry.getKey(), property, service, service)
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
    void prodLogsAreStructuredEcsJsonAndLocalLogsAreHumanReadable() {
        assertThat(yaml.get("prod").get("logging.structured.format.console")).hasToString("ecs");
        assertThat(yaml.get("local")).doesNotContainKey("logging.structured.format.console");
        assertThat(yaml.get("default")).doesNotContainKey("logging.structured.format.console");
    }

    /** Probes on, health and Prometheus exposed, every contract path an actuator one. */
    protected void assertManagementEndpointsAreTheContractOnes() {
        Map<String, Object> base = yaml.get("default");
        assertThat(base.get("management.endpoint.health.probes.enabled")).hasToString("true");
        assertThat(base.get("management.endpoints.web.exposure.include").toString()).contains("health", "prometheus");
        for (Map.Entry<String, JsonNode> path : contract.get("paths").properties()) {
            assertThat(path.getValue().asString()).startsWith("/actuator/");
        }
    }
}
