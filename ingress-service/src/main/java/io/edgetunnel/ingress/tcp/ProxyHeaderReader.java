package io.edgetunnel.ingress.tcp;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.runtime.tcp.ProxyHeaders;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * With {@code ingress.tcp.proxy-protocol} on: reads the PROXY protocol header (v1 or v2, as an NLB
 * sends it) before anything else, then opens the connection's stream with the client address it
 * names. A malformed header, bytes that are not one, or none within {@link #TIMEOUT} reset the client;
 * a {@code LOCAL} header (the balancer's health check) is closed without a stream.
 * The bytes after the header wait in the socket bridge until the agent answered.
 */
final class ProxyHeaderReader extends ChannelInboundHandlerAdapter {

    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final TcpConnection connection;
    private final AgentRegistry registry;
    private ScheduledFuture<?> timer;
    private boolean done;
    private volatile boolean accepted;

    private ProxyHeaderReader(TcpConnection connection, AgentRegistry registry) {
        this.connection = connection;
        this.registry = registry;
    }

    /** Call from the channel's initializer, after the connection installed its socket bridge. */
    static void install(Channel ch, TcpConnection connection, AgentRegistry registry) {
        ProxyHeaderReader reader = new ProxyHeaderReader(connection, registry);
        ch.pipeline().addFirst("proxyHeader", reader);
        // the decoder removes itself after the header; it asks for more reads until it has one
        ch.pipeline().addFirst("proxyProtocol", new HAProxyMessageDecoder());
        // the decoder closes the connection itself on a bad header: make that close a reset
        ch.pipeline().addFirst("proxyHeaderReset", new ChannelOutboundHandlerAdapter() {
            @Override
            public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
                if (!reader.accepted) {
                    ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                }
                super.close(ctx, promise);
            }
        });
        reader.timer = ch.eventLoop().schedule(
                () -> reader.reject(ch, "no PROXY protocol header within " + TIMEOUT), TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
        ch.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg); // bytes after the header: the bridge keeps them
            return;
        }
        try {
            if (done) {
                return;
            }
            done = true;
            accepted = true;
            timer.cancel(false);
            ctx.pipeline().remove(this);
            ctx.pipeline().remove("proxyHeaderReset");
            if (header.command() == HAProxyCommand.LOCAL) {
                // the balancer's own connection (an NLB health check): no client behind it, so no stream,
                // and the agent's target never sees it; accepting it was the check
                connection.closeBalancerCheck();
                return;
            }
            connection.open(registry, ProxyHeaders.source(header), ProxyHeaders.destination(header));
        } finally {
            ReferenceCountUtil.release(header);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timer.cancel(false);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            reject(ctx.channel(), "PROXY protocol header: " + cause.getMessage());
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private void reject(Channel ch, String why) {
        if (!done) {
            done = true;
            timer.cancel(false);
            connection.rejectHeader(why);
        }
    }
}
