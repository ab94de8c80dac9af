package io.edgetunnel.e2e.support;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} (from PATH, or {@code /usr/sbin}) on a random loopback port,
 * for the cluster directory. Nothing is persisted ({@code --save '' --appendonly no}), so a
 * {@link #kill()} and {@link #restart()} bring back an empty Redis on the same port: what a replica
 * sees when its Redis is lost and replaced.
 */
public final class RedisServer implements AutoCloseable {

    private static final String INSTALL_HINT =
            "redis-server not found on PATH or in /usr/sbin (Debian/Ubuntu: apt-get install redis-server; .ci/run installs it)";

    private final Path binary;
    private final ServerProcess process;
    private final int port;

    private RedisServer(Path binary, ServerProcess process, int port) {
        this.binary = binary;
        this.process = process;
        this.port = port;
    }

    /** Whether a {@code redis-server} binary exists here. */
    public static boolean available() {
        return ServerProcess.find("redis-server").isPresent();
    }

    /**
     * Skips the calling test, saying so on stderr as well, where no {@code redis-server} exists; fails it under
     * CI, which installs the server.
     */
    public static void assumeAvailable() {
        ServerProcess.requireUnderCi(available(), INSTALL_HINT);
        if (!available()) {
            System.err.println("SKIPPED: " + INSTALL_HINT);
        }
        Assumptions.assumeTrue(available(), INSTALL_HINT);
    }

    /** Starts on a random free loopback port and returns once it answers PING. */
    public static RedisServer start() {
        Path binary = ServerProcess.find("redis-server").orElseThrow(() -> new IllegalStateException(INSTALL_HINT));
        // A free port found here can be taken by someone else before Redis binds it: try again then.
        IllegalStateException failure = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            RedisServer redis = new RedisServer(binary, ServerProcess.tempDir("redis-"), ServerProcess.freePort());
            try {
                redis.launch();
                return redis;
            } catch (RuntimeException e) {
                failure = new IllegalStateException("redis-server did not start: " + e.getMessage() + "\n"
                        + redis.process.output(), e);
                redis.close();
            }
        }
        throw failure;
    }

    private void launch() {
        try {
            process.start(List.of(binary.toString(),
                    "--bind", "127.0.0.1",
                    "--port", Integer.toString(port),
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", process.dir().toString()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + binary + ": " + e.getMessage(), e);
        }
        process.awaitUp("redis-server on port " + port, this::answersPing);
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}, as {@code ingress.cluster.redis-url} takes it. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public boolean running() {
        return process.running();
    }

    /** SIGKILL: Redis disappears without a word, as a crashed or unreachable one does. */
    public void kill() {
        process.kill();
    }

    /** Kills Redis if it runs, then starts an empty one on the same port; returns once it answers PING. */
    public void restart() {
        process.kill();
        launch();
    }

    /** Whether Redis answers {@code PING} with {@code +PONG} within a second. */
    public boolean answersPing() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            socket.setSoTimeout(1000);
            socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            return readLine(socket.getInputStream()).equals("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs one command over RESP (what another process could write) and returns its reply's first line. */
    public String command(String... args) {
        StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
        for (String arg : args) {
            request.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
            return readLine(socket.getInputStream());
        } catch (IOException e) {
            throw new IllegalStateException("redis command " + args[0] + " failed: " + e.getMessage(), e);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    /** Redis's own log so far. */
    public String output() {
        return process.output();
    }

    /** Kills Redis and deletes its directory. */
    @Override
    public void close() {
        process.close();
    }
}
