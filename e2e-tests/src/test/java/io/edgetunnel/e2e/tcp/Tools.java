package io.edgetunnel.e2e.tcp;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** Real client and server binaries for the TCP route tests: found, run with a bound, output kept. */
final class Tools {

    private Tools() {
    }

    /** The result of a finished command. */
    record Result(int exitCode, String output) {}

    static Optional<Path> find(String name) {
        Stream<String> path = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator));
        return Stream.concat(path, Stream.of("/usr/sbin", "/usr/local/sbin", "/sbin"))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /**
     * Skips the test, loudly, where a binary is missing; under CI ({@code CI=true}, where {@code .ci/run}
     * installs them) a missing binary fails it instead.
     */
    static void assumeInstalled(String hint, String... names) {
        for (String name : names) {
            boolean present = find(name).isPresent();
            if (!present && "true".equals(System.getenv("CI"))) {
                throw new AssertionError("CI=true but " + name + " is missing: " + hint);
            }
            if (!present) {
                System.err.println("SKIPPED: " + name + " not found: " + hint);
            }
            Assumptions.assumeTrue(present, name + " not found: " + hint);
        }
    }

    /** Runs {@code command} to its end (bounded by {@code limit}: a hang fails, it does not wedge CI). */
    static Result run(Duration limit, List<String> command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("tcp-tool-", ".out");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(command.get(0) + " did not finish within " + limit + ": "
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
