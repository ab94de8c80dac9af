package io.edgetunnel.e2e.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A "holder" that reads what it is sent and closes without answering: a replica that stops, or that
 * closes a kept-alive connection just as it is reused, seen from the forwarding side.
 */
final class ClosingHolder implements AutoCloseable {

    private final ServerSocket server;

    private ClosingHolder(ServerSocket server) {
        this.server = server;
    }

    /** @param dropped counts the connections that carried bytes before they were closed */
    static ClosingHolder start(AtomicInteger dropped) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket connection = server.accept()) {
                    if (connection.getInputStream().read(new byte[4096]) > 0) {
                        dropped.incrementAndGet();
                    }
                } catch (IOException e) {
                    // closed at the end of the test, or the sender gave up first
                }
            }
        }, "closing-holder");
        acceptor.setDaemon(true);
        acceptor.start();
        return new ClosingHolder(server);
    }

    int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
