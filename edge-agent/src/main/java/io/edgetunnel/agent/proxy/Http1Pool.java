package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.tcp.LocalTcpConnector;
import io.edgetunnel.protocol.ResetCode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The kept-alive HTTP/1.1 connections of one event loop to one local app, for the exchanges {@link
 * Http1Exchange} runs there: the most recently used idle connection first, at most {@code
 * maxConnections} open, then up to four times as many exchanges waiting for one, as Reactor Netty's
 * pools do. Everything runs on the pool's loop, so none of it needs a lock; callers hop there first.
 */
final class Http1Pool {

    /** What a connection acquired for an exchange is handed to. */
    interface Waiter {
        void acquired(Http1Connection connection);

        void failed(Throwable cause);
    }

    // the limits Reactor Netty's HTTP client decodes responses with, so both paths accept the same apps
    private static final int MAX_INITIAL_LINE = 4096;
    private static final int MAX_HEADER_SIZE = 8192;
    private static final int MAX_CHUNK = 8192;

    private final EventLoop loop;
    private final InetSocketAddress address;
    private final int maxConnections;
    private final int maxPending;
    private final Duration connectTimeout;
    private final long maxIdleNanos;

    /** Idle connections, the most recently used first. */
    private final ArrayDeque<Http1Connection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> pending = new ArrayDeque<>();
    /** Every open connection, idle or busy, to close them all at shutdown. */
    private final Set<Http1Connection> open = new HashSet<>();
    private ScheduledFuture<?> sweep;
    private boolean closed;

    Http1Pool(EventLoop loop, InetSocketAddress address, int maxConnections, Duration connectTimeout, Duration maxIdle) {
        this.loop = loop;
        this.address = address;
        this.maxConnections = maxConnections;
        this.maxPending = maxConnections * 4;
        this.connectTimeout = connectTimeout;
        this.maxIdleNanos = maxIdle.toNanos();
    }

    EventLoop loop() {
        return loop;
    }

    /** Hands {@code waiter} an idle connection, a new one, or (at the limit) the next one released. */
    void acquire(Waiter waiter) {
        if (closed) {
            waiter.failed(new LocalExchangeException(ResetCode.UPSTREAM_ERROR, "agent shutting down", null));
            return;
        }
        long now = System.nanoTime();
        Http1Connection connection;
        while ((connection = idle.pollFirst()) != null) {
            if (connection.channel().isActive() && now - connection.idleSince() < maxIdleNanos) {
                waiter.acquired(connection);
                return;
            }
            connection.channel().close();
        }
        if (open.size() < maxConnections) {
            connect(waiter);
        } else if (pending.size() < maxPending) {
            pending.addLast(waiter);
        } else {
            waiter.failed(new LocalExchangeException(ResetCode.UPSTREAM_ERROR, "local connection pool to " + address
                    + " full: " + maxConnections + " connections busy and " + maxPending + " requests waiting", null));
        }
    }

    /** Forgets a waiter whose exchange was cancelled before it got a connection. */
    void cancel(Waiter waiter) {
        pending.remove(waiter);
    }

    /** Takes back a connection whose exchange ended; {@code reusable}: its response was read to the end. */
    void release(Http1Connection connection, boolean reusable) {
        connection.detach();
        if (!reusable || closed || !connection.channel().isActive()) {
            connection.channel().close();
            return;
        }
        // parked first, even for a waiting exchange: this may run inside the codec's read, and bytes
        // the app sent past its response would otherwise be read as the next exchange's
        connection.idleSince(System.nanoTime());
        idle.addFirst(connection);
        if (pending.isEmpty()) {
            scheduleSweep();
        } else {
            loop.execute(this::servePending);
        }
    }

    /** Hands idle connections to waiting exchanges, outside the read that released them. */
    private void servePending() {
        while (!pending.isEmpty() && !idle.isEmpty()) {
            Http1Connection connection = idle.pollFirst();
            if (connection.channel().isActive()) {
                pending.pollFirst().acquired(connection);
            } else {
                connection.channel().close();
            }
        }
        if (!idle.isEmpty()) {
            scheduleSweep();
        }
    }

    private void connect(Waiter waiter) {
        ChannelFuture connect = LocalTcpConnector.bootstrap(loop, connectTimeout)
                // the app's FIN ends the connection: HTTP/1.1 has no use for the half it leaves open
                .option(ChannelOption.ALLOW_HALF_CLOSURE, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(new HttpDecoderConfig()
                                .setMaxInitialLineLength(MAX_INITIAL_LINE)
                                .setMaxHeaderSize(MAX_HEADER_SIZE)
                                .setMaxChunkSize(MAX_CHUNK), false, false));
                    }
                })
                .connect(address);
        Http1Connection connection = new Http1Connection(connect.channel());
        open.add(connection);
        connect.channel().closeFuture().addListener(f -> closed(connection));
        connect.addListener(f -> {
            if (f.isSuccess()) {
                connection.install();
                waiter.acquired(connection);
            } else {
                waiter.failed(f.cause());
            }
        });
    }

    private void closed(Http1Connection connection) {
        open.remove(connection);
        idle.remove(connection);
        if (!closed && !pending.isEmpty() && open.size() < maxConnections) {
            connect(pending.pollFirst());
        }
    }

    private void scheduleSweep() {
        if (sweep == null) {
            sweep = loop.schedule(this::sweep, maxIdleNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Closes the connections idle for the maximum; apps drop theirs after a few seconds (Node: 5 s). */
    private void sweep() {
        sweep = null;
        long now = System.nanoTime();
        for (Iterator<Http1Connection> it = idle.descendingIterator(); it.hasNext(); ) {
            Http1Connection connection = it.next();
            if (now - connection.idleSince() >= maxIdleNanos) {
                it.remove();
                connection.channel().close();
            }
        }
        if (!idle.isEmpty()) {
            scheduleSweep();
        }
    }

    /** Closes every connection and fails the waiters; on the pool's loop. */
    void close() {
        closed = true;
        if (sweep != null) {
            sweep.cancel(false);
        }
        Waiter waiter;
        while ((waiter = pending.pollFirst()) != null) {
            waiter.failed(new LocalExchangeException(ResetCode.UPSTREAM_ERROR, "agent shutting down", null));
        }
        for (Http1Connection connection : Set.copyOf(open)) {
            connection.channel().close();
        }
    }

    /** Open connections, idle or busy (tests). */
    int openConnections() {
        return open.size();
    }
}
