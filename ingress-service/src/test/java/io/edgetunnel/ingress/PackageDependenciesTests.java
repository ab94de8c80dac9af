package io.edgetunnel.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering the packages show: routing (host matching, balancing) is below the registry (agents and
 * the routes they claim), so the registry uses routing and routing never names the registry. Read from
 * the sources, which the build runs from the module directory.
 */
class PackageDependenciesTests {

    private static final Path MAIN = Path.of("src/main/java/io/edgetunnel/ingress");

    @Test
    void routingDoesNotDependOnTheRegistry() {
        assertThat(sourcesNaming("routing", "io.edgetunnel.ingress.registry.")).isEmpty();
    }

    @Test
    void routingDependsOnNoOtherPackageOfTheIngress() {
        assertThat(sourcesNaming("routing", "io.edgetunnel.ingress.")).isEmpty();
    }

    @Test
    void theRegistryUsesRouting() {
        assertThat(sourcesNaming("registry", "io.edgetunnel.ingress.routing.")).isNotEmpty();
    }

    /** The files of {@code pkg} that name anything under {@code prefix}, import or qualified name. */
    private static List<String> sourcesNaming(String pkg, String prefix) {
        Path dir = MAIN.resolve(pkg);
        assertThat(dir).isDirectory();
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(file -> file.toString().endsWith(".java"))
                    .filter(file -> read(file).lines()
                            .filter(line -> !line.startsWith("package "))
                            .anyMatch(line -> line.contains(prefix)))
                    .map(file -> MAIN.relativize(file).toString())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
