package io.edgetunnel.e2e.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP relay that delays every byte by a fixed one-way latency in each direction, so a tunnel
 * through it has a wide-area round trip on loopback: each read is released {@code oneWay} after it
 * arrived, in order. Optionally it also caps the bandwidth of each direction, like a slow home
 * link: it then holds at most a few reads and stops reading, so the sender's socket fills up.
 */
public final class LatencyRelay implements AutoCloseable {

    private record Chunk(long dueNanos, byte[] bytes) {}

    private static final Chunk END = new Chunk(0, new byte[0]);

    private final ServerSocket server;
    private final int target;
    private final long delayNanos;
    private final long bytesPerSecond;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    public LatencyRelay(int target, Duration oneWay) throws IOException {
        this(target, oneWay, 0);
    }

    /** @param bytesPerSecond the most each direction carries per second, 0 for no limit */
    public LatencyRelay(int target, Duration oneWay, long bytesPerSecond) throws IOException {
        this.target = target;
        this.delayNanos = oneWay.toNanos();
        this.bytesPerSecond = bytesPerSecond;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon("latency-relay-accept", this::accept).start();
    }

    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("latency relay: " + e);
                }
            }
        }
    }

    private void pump(Socket from, Socket to) throws IOException {
        BlockingQueue<Chunk> queue = bytesPerSecond > 0 ? new LinkedBlockingQueue<>(4) : new LinkedBlockingQueue<>();
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        daemon("latency-relay-read", () -> {
            byte[] buffer = new byte[64 * 1024];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    queue.put(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buffer, n)));
                }
            } catch (IOException | InterruptedException e) {
                // the socket closed: pass the end on
            }
            try {
                queue.put(END);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }).start();
        daemon("latency-relay-write", () -> {
            long nextSlot = System.nanoTime();
            try {
                while (true) {
                    Chunk chunk = queue.take();
                    if (chunk == END) {
                        to.shutdownOutput();
                        return;
                    }
                    long wait;
                    while ((wait = chunk.dueNanos() - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    out.write(chunk.bytes());
                    if (bytesPerSecond > 0) {
                        // pace: the next write waits as long as this one takes on the link (no burst
                        // credit from idle time)
                        nextSlot = Math.max(nextSlot, chunk.dueNanos())
                                + chunk.bytes().length * 1_000_000_000L / bytesPerSecond;
                        while ((wait = nextSlot - System.nanoTime()) > 0) {
                            LockSupport.parkNanos(wait);
                        }
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the other side closed
            }
        }).start();
    }

    private static Thread daemon(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
