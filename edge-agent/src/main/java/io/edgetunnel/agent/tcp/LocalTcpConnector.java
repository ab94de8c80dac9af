package io.edgetunnel.agent.tcp;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.config.TcpRoute;
import io.edgetunnel.agent.discovery.DnsTargets;
import io.edgetunnel.agent.proxy.LocalExchangeException;
import io.edgetunnel.agent.proxy.LocalRequest;
import io.edgetunnel.agent.proxy.ResponseRelay;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.TcpRoutes;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.edgetunnel.runtime.tcp.ProxyHeaders;
import io.edgetunnel.runtime.tcp.SocketBridge;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpResources;

/**
 * The agent end of a TCP route's connection (spec section 20): connects to the route's target on the
 * tunnel's own event loop, answers RESPONSE 200 once connected, then relays bytes both ways under the
 * stream's flow control, each direction's end being that direction's FIN. A target found by DNS
 * ({@link DnsTargets}) is tried address after address until one accepts. A refused or timed-out
 * connect fails with {@link ResetCode#UPSTREAM_CONNECT_FAILED} before any RESPONSE; a local
 * connection lost mid-way fails with {@link ResetCode#UPSTREAM_ERROR}; cancelling the returned Mono
 * (the ingress reset the stream) resets the local connection with a TCP RST.
 */
public final class LocalTcpConnector {

    private static final Logger log = LoggerFactory.getLogger(LocalTcpConnector.class);

    private final Duration connectTimeout;
    private final DnsTargets targets;

    public LocalTcpConnector(Duration connectTimeout, AgentProperties.Dns dns) {
        this(connectTimeout, new DnsTargets(Objects.requireNonNull(dns, "dns")));
    }

    /** @param targets looks up targets found by DNS (shared with HTTP routes) */
    public LocalTcpConnector(Duration connectTimeout, DnsTargets targets) {
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
        this.targets = Objects.requireNonNull(targets, "targets");
    }

    /** Closes the DNS resolvers of targets found by DNS (their UDP sockets). */
    public void close() {
        targets.close();
    }

    /** Connects {@code request} (a CONNECT stream of a TCP route); completes when both directions ended. */
    public Mono<Void> connect(LocalRequest request, ResponseRelay relay) {
        Route route = request.route();
        if (!route.isTcp() || !request.method().equals(TcpRoutes.METHOD) || request.body() == null) {
            // an HTTP request for a TCP route's claim, or a CONNECT for an HTTP route: not ours
            return Mono.error(new LocalExchangeException(ResetCode.NO_ROUTE, request.method() + " for "
                    + route.claim() + " (expected: CONNECT for a TCP route, spec section 20)", null));
        }
        return Mono.defer(() -> {
            EventLoop loop = loop();
            return candidates(route.localUrl(), loop)
                    .flatMap(addresses -> Mono.<Void>create(sink -> {
                        // one cancel hook for every attempt (a MonoSink takes one): it resets the current one
                        AtomicReference<Attempt> current = new AtomicReference<>();
                        sink.onCancel(() -> {
                            Attempt attempt = current.get();
                            if (attempt != null) {
                                attempt.cancel();
                            }
                        });
                        start(sink, current, loop, addresses, 0, request, relay);
                    }));
        });
    }

    /** Where to connect, in order: the fixed address, or what DNS gives now. */
    private Mono<List<InetSocketAddress>> candidates(URI url, EventLoop loop) {
        if (!DnsTargets.byDns(url)) {
            return Mono.just(List.of(target(url)));
        }
        return targets.candidates(url, loop).onErrorMap(e -> new LocalExchangeException(
                ResetCode.UPSTREAM_CONNECT_FAILED, "cannot resolve " + url + ": " + e.getMessage(), e));
    }

    /** One connect attempt: its future, and its socket once the channel exists. */
    private record Attempt(ChannelFuture connect, AtomicReference<SocketBridge> bridge) {
        void cancel() {
            connect.cancel(false);
            SocketBridge b = bridge.get();
            if (b != null) {
                b.reset();
            }
        }
    }

    private void start(MonoSink<Void> sink, AtomicReference<Attempt> current, EventLoop loop,
            List<InetSocketAddress> addresses, int index, LocalRequest request, ResponseRelay relay) {
        InetSocketAddress target = addresses.get(index);
        AtomicReference<SocketBridge> bridge = new AtomicReference<>();
        Sinks.Empty<Void> outputDone = Sinks.empty();
        ChannelFuture connect = bootstrap(loop, connectTimeout).handler(new ChannelInitializer<Channel>() {
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
        current.set(new Attempt(connect, bridge));
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                String why = cause == null ? "cancelled" : String.valueOf(cause.getMessage());
                log.debug("tcp route {}: cannot connect to {}: {}", request.route().claim(), target, why);
                if (cause != null && index + 1 < addresses.size()) {
                    // a refused or unreachable target found by DNS: on to the next one
                    start(sink, current, loop, addresses, index + 1, request, relay);
                    return;
                }
                sink.error(new LocalExchangeException(
                        ResetCode.UPSTREAM_CONNECT_FAILED, "cannot connect to " + target + ": " + why, cause));
                return;
            }
            SocketBridge socket = bridge.get();
            HAProxyProtocolVersion proxyVersion = proxyProtocol(request.route().localUrl());
            if (proxyVersion != null) {
                // the header first, then the client's bytes: the target learns who the client is
                socket.channel().pipeline().addFirst("proxyProtocol", HAProxyMessageEncoder.INSTANCE);
                socket.channel().writeAndFlush(ProxyHeaders.of(proxyVersion,
                        header(request, TcpRoutes.SOURCE_HEADER), header(request, TcpRoutes.DESTINATION_HEADER)));
            }
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

    /** The PROXY protocol version the route asks for ({@code ?proxy-protocol=v1|v2}), or null. */
    private static HAProxyProtocolVersion proxyProtocol(URI url) {
        String query = url.getQuery();
        if (query == null) {
            return null;
        }
        if (query.contains(TcpRoute.PROXY_PROTOCOL + "=v1")) {
            return HAProxyProtocolVersion.V1;
        }
        return query.contains(TcpRoute.PROXY_PROTOCOL + "=v2") ? HAProxyProtocolVersion.V2 : null;
    }

    private static String header(LocalRequest request, String name) {
        for (Header header : request.headers()) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    /** Connects to a TCP route's target (one found by DNS: any of them) and closes at once: its health check. */
    public Mono<Void> probe(URI url, Duration timeout) {
        return Mono.defer(() -> {
            EventLoop loop = loop();
            return candidates(url, loop).flatMap(addresses -> probe(loop, addresses, 0, timeout));
        });
    }

    private static Mono<Void> probe(EventLoop loop, List<InetSocketAddress> addresses, int index, Duration timeout) {
        return Mono.<Void>create(sink -> {
            ChannelFuture connect = bootstrap(loop, timeout)
                    .option(ChannelOption.AUTO_READ, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            // nothing read: the check only proves the target accepts connections
                        }
                    })
                    .connect(addresses.get(index));
            sink.onCancel(() -> connect.cancel(false));
            connect.addListener(f -> {
                if (f.isSuccess()) {
                    connect.channel().close();
                    sink.success();
                } else {
                    sink.error(f.cause() == null ? new java.net.ConnectException("cancelled") : f.cause());
                }
            });
        }).onErrorResume(e -> index + 1 < addresses.size(), e -> probe(loop, addresses, index + 1, timeout));
    }

    /** The caller's event loop (the tunnel's), or one of Reactor Netty's shared loops. */
    private static EventLoop loop() {
        EventExecutor current = EventLoopSchedulers.currentLoop();
        return current instanceof EventLoop loop ? loop : TcpResources.get().onClient(true).next();
    }

    /** A bootstrap on {@code loop}, resolving names with Netty's non-blocking resolver. */
    public static Bootstrap bootstrap(EventLoop loop, Duration connectTimeout) {
        LoopResources loops = TcpResources.get();
        return new Bootstrap()
                .group(loop)
                .resolver(Resolvers.of(loops, loop))
                .channel(loops.onChannelClass(SocketChannel.class, loop))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadBuffers.forSockets())
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
