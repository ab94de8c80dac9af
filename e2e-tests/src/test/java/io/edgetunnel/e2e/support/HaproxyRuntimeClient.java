package io.edgetunnel.e2e.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * HAProxy's runtime API over its unix socket, in non-interactive mode: one command (or several
 * separated by {@code ;}) per connection, and HAProxy closes the connection after its answer. Every
 * exchange is bounded in time, so a wedged HAProxy fails the test instead of hanging it.
 */
final class HaproxyRuntimeClient {

    static final Duration TIMEOUT = Duration.ofSeconds(5);

    private HaproxyRuntimeClient() {}

    static String send(UnixDomainSocketAddress socket, String command) throws IOException {
        if (command.contains("\n")) {
            throw new IllegalArgumentException("command: " + command + " (expected: one line)");
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                Selector selector = Selector.open()) {
            // connecting to a unix socket does not wait for the peer's accept; writing and reading can
            channel.connect(socket);
            channel.configureBlocking(false);
            ByteBuffer request = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
            SelectionKey key = channel.register(selector, SelectionKey.OP_WRITE);
            while (request.hasRemaining()) {
                awaitReady(selector, deadline, command);
                channel.write(request);
            }
            key.interestOps(SelectionKey.OP_READ);
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            while (true) {
                awaitReady(selector, deadline, command);
                buffer.clear();
                int read = channel.read(buffer);
                if (read < 0) {
                    return answer.toString(StandardCharsets.UTF_8);
                }
                answer.write(buffer.array(), 0, read);
            }
        }
    }

    private static void awaitReady(Selector selector, long deadline, String command) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new IOException("no complete answer to '" + command + "' within " + TIMEOUT.toSeconds() + " s");
        }
        selector.selectedKeys().clear();
        selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    }
}
