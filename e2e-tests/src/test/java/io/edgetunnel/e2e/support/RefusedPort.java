package io.edgetunnel.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback port that refuses every connection for as long as it is held: a socket is bound to it
 * and never listens. A port merely closed after use is free for anything: a later listener of this
 * or another process, or an outgoing connection that picks it as its own port and so connects to
 * itself. A test that expects a refusal then sees a connected target (CI saw one such connection
 * wait for its test's full read timeout).
 */
public final class RefusedPort implements AutoCloseable {

    private final Socket holder;

    private RefusedPort(Socket holder) {
        this.holder = holder;
    }

    /** Any free port on 127.0.0.1. */
    public static RefusedPort take() {
        return take(0);
    }

    /** {@code port} on 127.0.0.1, just closed by its server (connections of it may linger in TIME_WAIT). */
    public static RefusedPort take(int port) {
        Socket holder = new Socket();
        try {
            holder.setReuseAddress(true);
            holder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return new RefusedPort(holder);
        } catch (IOException e) {
            try {
                holder.close();
            } catch (IOException ignored) {
                // the bind failed: nothing to free
            }
            throw new UncheckedIOException("cannot hold port " + port, e);
        }
    }

    public int port() {
        return holder.getLocalPort();
    }

    @Override
    public void close() {
        try {
            holder.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
