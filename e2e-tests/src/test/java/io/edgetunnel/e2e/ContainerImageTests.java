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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the image tarballs that the {@code image-smoke} Jib execution of each service packages in
 * {@code verify} (against {@code scratch}, offline) and checks what a container runtime would run:
 * the entrypoint, the exposed ports (those of the deployment contract), a non-root user.
 */
class ContainerImageTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest
    @CsvSource({
        "ingress-service, ingress, io.edgetunnel.ingress.IngressApplication",
        "edge-agent, agent, io.edgetunnel.agent.EdgeAgentApplication"
    })
    void imageRunsTheServiceAsNonRootWithTheContractPorts(String module, String service, String mainClass)
            throws IOException {
        Path tar = Path.of("..", module, "target", "jib-smoke", "image.tar");
        assumeTrue(Files.isRegularFile(tar), tar + " not built (run the module's verify, without -DskipImageSmoke)");
        Map<String, byte[]> entries = readTar(tar, List.of("manifest.json", "config.json"));
        JsonNode manifest = JSON.readTree(entries.get("manifest.json")).get(0);
        assertThat(manifest.get("RepoTags").get(0).asString()).startsWith("edge-tunnel/" + module + ":");
        JsonNode config = JSON.readTree(entries.get(manifest.get("Config").asString())).get("config");

        List<String> entrypoint = new ArrayList<>();
        config.get("Entrypoint").forEach(part -> entrypoint.add(part.asString()));
        assertThat(entrypoint).first().isEqualTo("java");
        assertThat(entrypoint).last().isEqualTo(mainClass);
        assertThat(entrypoint).contains("-XX:+ExitOnOutOfMemoryError");

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
