package io.edgetunnel.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain blocking TCP server on a random loopback port, a thread per connection running {@code
 * handler}: the local target of TCP route tests, with full control over FIN and RST.
 */
public final class LocalTcpServer implements AutoCloseable {

    /** What to do with one accepted connection; the socket is closed after it returns. */
    @FunctionalInterface
    public interface Handler {
        void handle(Socket socket) throws IOException;
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final Handler handler;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile RefusedPort refusing;

    public LocalTcpServer(Handler handler) {
        this.handler = handler;
        try {
            this.server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        acceptor = new Thread(this::accept, "local-tcp-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Echoes every byte back and, once the client's FIN came, sends its own. */
    public static LocalTcpServer echo() {
        return new LocalTcpServer(socket -> {
            byte[] buffer = new byte[64 * 1024];
            int read;
            while ((read = socket.getInputStream().read(buffer)) >= 0) {
                socket.getOutputStream().write(buffer, 0, read);
            }
            socket.shutdownOutput();
        });
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far (health checks included). */
    public int accepted() {
        return accepted.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            open.add(socket);
            Thread thread = new Thread(() -> {
                try (socket) {
                    handler.handle(socket);
                } catch (IOException e) {
                    // the peer went away: the test looks at what its client saw
                } finally {
                    open.remove(socket);
                }
            }, "local-tcp-conn");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /**
     * Stops listening, and keeps the port so that every later connection to it is refused (see
     * {@link RefusedPort}) until {@link #close}.
     */
    public void stopListening() {
        int port = server.getLocalPort();
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        // the listening socket is released only once the acceptor's blocked accept() has returned
        // (close() merely wakes it): until then the port cannot be bound (CI saw "Address already in use")
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        refusing = RefusedPort.take(port);
    }

    @Override
    public void close() {
        RefusedPort held = refusing;
        if (held != null) {
            held.close();
        }
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket socket : open) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
