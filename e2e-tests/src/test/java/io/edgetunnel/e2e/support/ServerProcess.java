package io.edgetunnel.e2e.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A server binary from the machine (HAProxy, redis-server) run by a test: found on PATH or in
 * {@code /usr/sbin} (where Debian installs HAProxy, and which is not on an ordinary user's PATH), given
 * a temporary directory for its configuration, sockets and output, killed and cleaned up on close.
 */
final class ServerProcess implements AutoCloseable {

    static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private final Path dir;
    private Process process;

    private ServerProcess(Path dir) {
        this.dir = dir;
    }

    static Optional<Path> find(String name) {
        Stream<String> path = Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator));
        return Stream.concat(path, Stream.of("/usr/sbin", "/usr/local/sbin", "/sbin"))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /**
     * Under CI ({@code CI=true}, which {@code .ci/run} sets up to install every server a test needs)
     * a missing server is a broken machine, not a reason to skip: the tests that need it must run.
     */
    static void requireUnderCi(boolean available, String hint) {
        if (!available && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("CI=true but " + hint);
        }
    }

    /** A new, empty directory; short, because unix socket paths are limited to about 100 bytes. */
    static ServerProcess tempDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            if (dir.resolve("admin.sock").toString().length() > 100) {
                throw new IllegalStateException("temporary directory " + dir
                        + " is too long a path for a unix socket (expected: under 100 characters; set java.io.tmpdir)");
            }
            return new ServerProcess(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A loopback port that was free a moment ago. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    Path dir() {
        return dir;
    }

    private Path outputFile() {
        return dir.resolve("output.log");
    }

    /** Starts the command in this directory; its output (both streams) goes to a file here. */
    void start(List<String> command) throws IOException {
        if (running()) {
            throw new IllegalStateException("already running: " + command);
        }
        process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile().toFile()))
                .start();
    }

    /** Waits until {@code up} holds; fails at once if the process exits meanwhile. */
    void awaitUp(String what, Callable<Boolean> up) {
        await(what + " up")
                .atMost(START_TIMEOUT)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (!running()) {
                        throw new IllegalStateException(what + " exited with status " + process.exitValue());
                    }
                    return up.call();
                });
    }

    boolean running() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, and waits until the process is gone (its ports and sockets are free then). */
    void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("process " + process.pid() + " still alive 10 s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for process " + process.pid() + " to die", e);
        }
    }

    /** What the process wrote so far (for failure messages). */
    String output() {
        try {
            return Files.exists(outputFile()) ? Files.readString(outputFile(), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(output unreadable: " + e + ")";
        }
    }

    /** Kills the process and deletes the directory. */
    @Override
    public void close() {
        try {
            kill();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException e) {
                // a temporary directory left behind is no reason to fail a test
            }
        }
    }
}
