package io.edgetunnel.ingress.tcp;

import io.edgetunnel.ingress.cluster.PeerLinks;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpResources;

/**
 * The public TCP listeners of {@code ingress.tcp.listeners}, on Reactor Netty's shared event loops:
 * each accepted connection becomes a {@link TcpConnection}. Bound at start (a port in use fails the
 * start), closed at stop; connections in flight end with their tunnels.
 */
public final class TcpServers implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(TcpServers.class);

    private final TcpProperties properties;
    private final AgentRegistry registry;
    private final TcpMetrics metrics;
    /** Null without a cluster (or with the HTTP hop, which carries no TCP). */
    private final PeerLinks links;
    private final Map<String, Channel> bound = new LinkedHashMap<>();
    private volatile boolean running;

    TcpServers(TcpProperties properties, AgentRegistry registry, IngressMetrics ingressMetrics, PeerLinks links) {
        this.links = links;
        this.properties = Objects.requireNonNull(properties, "properties");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.metrics = new TcpMetrics(Objects.requireNonNull(ingressMetrics, "ingressMetrics").meters());
    }

    /** The port the listener of {@code route} is bound to; -1 when it is not. */
    public synchronized int port(String route) {
        Channel channel = bound.get(route);
        return channel == null ? -1 : ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The listeners and their bound ports, for the admin listing. */
    public synchronized Map<String, Integer> ports() {
        Map<String, Integer> ports = new LinkedHashMap<>();
        bound.forEach((name, channel) -> ports.put(name, ((InetSocketAddress) channel.localAddress()).getPort()));
        return ports;
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        LoopResources loops = TcpResources.get();
        EventLoopGroup boss = loops.onServerSelect(true);
        EventLoopGroup workers = loops.onServer(true);
        List<String> started = new ArrayList<>();
        for (TcpListener listener : properties.listeners()) {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(loops.onChannelClass(ServerSocketChannel.class, workers))
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            TcpConnection connection = new TcpConnection(listener.name(), ch,
                                    properties.idleTimeoutOf(listener), metrics, links);
                            if (properties.proxyProtocol()) {
                                ProxyHeaderReader.install(ch, connection, registry);
                            } else {
                                connection.open(registry);
                            }
                        }
                    });
            InetSocketAddress address = properties.address() == null || properties.address().isBlank()
                    ? new InetSocketAddress(listener.port())
                    : new InetSocketAddress(properties.address(), listener.port());
            Channel channel = bootstrap.bind(address).syncUninterruptibly().channel();
            bound.put(listener.name(), channel);
            started.add(listener.name() + "=" + ((InetSocketAddress) channel.localAddress()).getPort());
        }
        running = true;
        if (!started.isEmpty()) {
            log.info("TCP listeners started: {}", started);
        }
    }

    @Override
    public synchronized void stop() {
        running = false;
        bound.values().forEach(channel -> channel.close().syncUninterruptibly());
        bound.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
