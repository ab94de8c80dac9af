package io.edgetunnel.agent.tcp;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalExchangeException;
import io.edgetunnel.agent.proxy.LocalRequest;
import io.edgetunnel.agent.proxy.ResponseRelay;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.TcpRoutes;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.edgetunnel.runtime.tcp.SocketBridge;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpResources;

/**
 * The agent end of a TCP route's connection (spec section 20): connects to the route's target on the
 * tunnel's own event loop, answers RESPONSE 200 once connected, then relays bytes both ways under the
 * stream's flow control, each direction's end being that direction's FIN. A refused or timed-out
 * connect fails with {@link ResetCode#UPSTREAM_CONNECT_FAILED} before any RESPONSE; a local
 * connection lost mid-way fails with {@link ResetCode#UPSTREAM_ERROR}; cancelling the returned Mono
 * (the ingress reset the stream) resets the local connection with a TCP RST.
 */
public final class LocalTcpConnector {

    private static final Logger log = LoggerFactory.getLogger(LocalTcpConnector.class);

    private final Duration connectTimeout;

    public LocalTcpConnector(Duration connectTimeout) {
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
    }

    /** Connects {@code request} (a CONNECT stream of a TCP route); completes when both directions ended. */
    public Mono<Void> connect(LocalRequest request, ResponseRelay relay) {
        Route route = request.route();
        if (!route.isTcp() || !request.method().equals(TcpRoutes.METHOD) || request.body() == null) {
            // an HTTP request for a TCP route's claim, or a CONNECT for an HTTP route: not ours
            return Mono.error(new LocalExchangeException(ResetCode.NO_ROUTE, request.method() + " for "
                    + route.claim() + " (expected: CONNECT for a TCP route, spec section 20)", null));
        }
        InetSocketAddress target = target(route.localUrl());
        return Mono.create(sink -> start(sink, target, request, relay));
    }

    private void start(MonoSink<Void> sink, InetSocketAddress target, LocalRequest request, ResponseRelay relay) {
        AtomicReference<SocketBridge> bridge = new AtomicReference<>();
        Sinks.Empty<Void> outputDone = Sinks.empty();
        ChannelFuture connect = bootstrap(connectTimeout).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                bridge.set(SocketBridge.install(ch, Duration.ZERO, new SocketBridge.Listener() {
                    @Override
                    public void outputShutdown() {
                        outputDone.tryEmitEmpty();
                    }

                    @Override
                    public void failed(Throwable cause) {
                        outputDone.tryEmitError(new LocalExchangeException(ResetCode.UPSTREAM_ERROR,
                                "local connection to " + target + " lost: " + cause.getMessage(), cause));
                    }
                }));
            }
        }).connect(target);
        sink.onCancel(() -> {
            connect.cancel(false);
            SocketBridge b = bridge.get();
            if (b != null) {
                b.reset();
            }
        });
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                String why = cause == null ? "cancelled" : String.valueOf(cause.getMessage());
                log.debug("tcp route {}: cannot connect to {}: {}", request.route().claim(), target, why);
                sink.error(new LocalExchangeException(
                        ResetCode.UPSTREAM_CONNECT_FAILED, "cannot connect to " + target + ": " + why, cause));
                return;
            }
            SocketBridge socket = bridge.get();
            // the ingress's bytes go to the app, its END_STREAM becoming our FIN
            socket.writeFrom(request.body());
            // the app's bytes go back after RESPONSE 200, its FIN becoming END_STREAM
            Disposable both = relay.relay(200, List.of(), false, Flux.from(socket), List::of)
                    .and(outputDone.asMono())
                    .subscribe(null, error -> {
                        socket.reset();
                        sink.error(error instanceof LocalExchangeException ? error
                                : new LocalExchangeException(ResetCode.UPSTREAM_ERROR,
                                        "local connection to " + target + " failed: " + error.getMessage(), error));
                    }, () -> {
                        socket.close();
                        sink.success();
                    });
            sink.onDispose(both);
        });
    }

    /** Connects to a TCP route's target and closes at once: its health check. */
    public static Mono<Void> probe(URI url, Duration timeout) {
        return Mono.create(sink -> {
            ChannelFuture connect = bootstrap(timeout)
                    .option(ChannelOption.AUTO_READ, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            // nothing read: the check only proves the target accepts connections
                        }
                    })
                    .connect(target(url));
            sink.onCancel(() -> connect.cancel(false));
            connect.addListener(f -> {
                if (f.isSuccess()) {
                    connect.channel().close();
                    sink.success();
                } else {
                    sink.error(f.cause() == null ? new java.net.ConnectException("cancelled") : f.cause());
                }
            });
        });
    }

    /** A bootstrap on the caller's event loop (the tunnel's), or on Reactor Netty's shared loops. */
    static Bootstrap bootstrap(Duration connectTimeout) {
        EventExecutor current = EventLoopSchedulers.currentLoop();
        LoopResources loops = TcpResources.get();
        EventLoopGroup group = current instanceof io.netty.channel.EventLoop loop ? loop : loops.onClient(true);
        return new Bootstrap()
                .group(group)
                .resolver(Resolvers.of(loops, group))
                .channel(loops.onChannelClass(SocketChannel.class, group))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true);
    }

    /**
     * The address of a {@code tcp://host:port} target: an IP literal as is; a name unresolved, for the
     * bootstrap's non-blocking DNS resolver (never a blocking lookup on the event loop).
     */
    static InetSocketAddress target(URI url) {
        String host = url.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
        if (literal != null) {
            try {
                return new InetSocketAddress(InetAddress.getByAddress(literal), url.getPort());
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("target: " + url + " (expected: a valid address)", e);
            }
        }
        return InetSocketAddress.createUnresolved(host, url.getPort());
    }
}
