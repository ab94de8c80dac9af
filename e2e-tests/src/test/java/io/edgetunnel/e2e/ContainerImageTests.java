package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the image tarballs that the {@code image-smoke-<arch>} Jib executions of each service
 * package in {@code verify} (against {@code scratch}, offline, one per platform: Jib writes a
 * tarball for one platform only) and checks what a container runtime would run on either: the
 * platform, the entrypoint, the JVM options, the exposed ports (those of the deployment contract),
 * a non-root user. The published image is the two-platform one the parent pom configures.
 */
class ContainerImageTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest
    @CsvSource({
        "ingress-service, ingress, io.edgetunnel.ingress.IngressApplication, amd64",
        "ingress-service, ingress, io.edgetunnel.ingress.IngressApplication, arm64",
        "edge-agent, agent, io.edgetunnel.agent.EdgeAgentApplication, amd64",
        "edge-agent, agent, io.edgetunnel.agent.EdgeAgentApplication, arm64"
    })
    void imageRunsTheServiceAsNonRootWithTheContractPorts(String module, String service, String mainClass, String arch)
            throws Exception {
        Path tar = Path.of("..", module, "target", "jib-smoke", arch, "image.tar");
        String missing = tar + " not built (run the module's verify, without -DskipImageSmoke)";
        // CI (.ci/run) always builds the images (Jib against `scratch` needs neither a daemon nor a
        // registry): there a missing tarball is a broken build, not a reason to skip
        if (!Files.isRegularFile(tar) && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("CI=true but " + missing);
        }
        assumeTrue(Files.isRegularFile(tar), missing);
        Map<String, byte[]> entries = readTar(tar, List.of("manifest.json", "config.json"));
        JsonNode manifest = JSON.readTree(entries.get("manifest.json")).get(0);
        assertThat(manifest.get("RepoTags").get(0).asString()).startsWith("edge-tunnel/" + module + ":");
        JsonNode image = JSON.readTree(entries.get(manifest.get("Config").asString()));
        assertThat(image.get("architecture").asString()).isEqualTo(arch);
        assertThat(image.get("os").asString()).isEqualTo("linux");
        JsonNode config = image.get("config");

        List<String> entrypoint = new ArrayList<>();
        config.get("Entrypoint").forEach(part -> entrypoint.add(part.asString()));
        assertThat(entrypoint).first().isEqualTo("java");
        assertThat(entrypoint).last().isEqualTo(mainClass);
        // the JVM options live in one place, JAVA_TOOL_OPTIONS, so `java -jar` can take the same;
        // sized relative to the container limit, which the JVM reads from the cgroup
        assertThat(entrypoint).noneMatch(part -> part.startsWith("-X"));
        String toolOptions = env(config, "JAVA_TOOL_OPTIONS");
        assertThat(toolOptions)
                .isEqualTo(ImagePom.javaToolOptions(module))
                .contains("-XX:+ExitOnOutOfMemoryError")
                .doesNotContain("-XX:MaxRAM=", "-Xmx");
        // glibc's settings, beside the JVM's: the pom's properties are what run-local.sh and the bench use
        String arenas = ImagePom.property(module, "image.malloc-arena-max");
        if (!arenas.isEmpty()) {
            assertThat(env(config, "MALLOC_ARENA_MAX")).isEqualTo(arenas);
        }
        String mmapThreshold = ImagePom.property(module, "image.malloc-mmap-threshold");
        if (!mmapThreshold.isEmpty()) {
            // glibc reads an empty or zero threshold as 0: every allocation would become an mmap
            assertThat(mmapThreshold).matches("[1-9][0-9]*");
            assertThat(env(config, "MALLOC_MMAP_THRESHOLD_")).isEqualTo(mmapThreshold);
        }

        List<String> exposed = new ArrayList<>();
        config.get("ExposedPorts").propertyNames().forEach(exposed::add);
        List<String> expected = new ArrayList<>();
        Path contract = Path.of("../deploy/cloudformation/test/contract.json");
        if (Files.isRegularFile(contract)) {
            var described = JSON.readTree(contract.toFile()).get(service);
            described.get("ports").forEach(port -> expected.add(port.asInt() + "/tcp"));
            // the cluster port too: a container port (between replicas), in no target group
            if (described.has("internalPorts")) {
                described.get("internalPorts").forEach(port -> expected.add(port.asInt() + "/tcp"));
            }
            assertThat(exposed).containsExactlyInAnyOrderElementsOf(expected);
        }

        String user = config.get("User").asString();
        assertThat(user).isNotBlank().isNotEqualTo("root").doesNotStartWith("0:").isNotEqualTo("0");
        assertThat(config.get("Labels").get("org.opencontainers.image.title").asString()).isEqualTo(module);
    }

    @Test
    void publishedImagesAreForBothPlatforms() throws Exception {
        assertThat(ImagePom.platforms()).containsExactlyInAnyOrder("linux/amd64", "linux/arm64");
    }

    private static String env(JsonNode config, String name) {
        List<String> values = new ArrayList<>();
        config.path("Env").forEach(entry -> values.add(entry.asString()));
        return values.stream()
                .filter(entry -> entry.startsWith(name + "="))
                .map(entry -> entry.substring(name.length() + 1))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in the image's Env: " + values));
    }

    /** The named entries of an uncompressed tar (ustar headers, 512-byte blocks). */
    private static Map<String, byte[]> readTar(Path tar, List<String> wanted) throws IOException {
        Map<String, byte[]> found = new LinkedHashMap<>();
        try (InputStream file = Files.newInputStream(tar); DataInputStream in = new DataInputStream(file)) {
            byte[] header = new byte[512];
            while (found.size() < wanted.size()) {
                try {
                    in.readFully(header);
                } catch (EOFException e) {
                    break;
                }
                String name = field(header, 0, 100);
                if (name.isEmpty()) {
                    break;
                }
                long size = Long.parseLong(field(header, 124, 12).trim(), 8);
                long padded = (size + 511) / 512 * 512;
                if (wanted.contains(name)) {
                    byte[] content = new byte[(int) size];
                    in.readFully(content);
                    in.skipNBytes(padded - size);
                    found.put(name, content);
                } else {
                    in.skipNBytes(padded);
                }
            }
        }
        assertThat(found).as("entries of " + tar).containsKeys(wanted.toArray(String[]::new));
        return found;
    }

    private static String field(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.US_ASCII);
    }
}
