package io.edgetunnel.ingress.tunnel;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;
import reactor.netty.resources.LoopResources;

/**
 * The tunnel port's event loops: the public server's own (so a public request can find a tunnel on
 * its loop), but each accepted tunnel goes to the loop holding the fewest tunnels instead of the
 * next one round-robin. Round-robin is shared with every other connection the loops accept (public
 * clients, probes), so an agent's two tunnels dialled together often landed on one loop: that loop
 * then carried all of the agent's traffic and every public connection on the other loops handed its
 * requests over to it.
 *
 * <p>Everything else is the delegate's; its loops belong to the application's resources and are
 * not disposed here.
 */
final class BalancedTunnelLoops implements LoopResources {

    private final LoopResources delegate;
    private final Map<Boolean, LeastTunnelsGroup> children = new ConcurrentHashMap<>();

    BalancedTunnelLoops(LoopResources delegate) {
        this.delegate = delegate;
    }

    @Override
    public EventLoopGroup onServer(boolean useNative) {
        return children.computeIfAbsent(useNative, n -> new LeastTunnelsGroup(delegate.onServer(n)));
    }

    @Override
    public EventLoopGroup onServerSelect(boolean useNative) {
        return delegate.onServerSelect(useNative);
    }

    @Override
    public EventLoopGroup onClient(boolean useNative) {
        return delegate.onClient(useNative);
    }

    @Override
    public <C extends Channel> C onChannel(Class<C> channelType, EventLoopGroup group) {
        return delegate.onChannel(channelType, unwrap(group));
    }

    @Override
    public <C extends Channel> Class<? extends C> onChannelClass(Class<C> channelType, EventLoopGroup group) {
        return delegate.onChannelClass(channelType, unwrap(group));
    }

    @Override
    public boolean daemon() {
        return delegate.daemon();
    }

    @Override
    public void dispose() {
        // the delegate's loops outlive the tunnel server
    }

    @Override
    public Mono<Void> disposeLater() {
        return Mono.empty();
    }

    /** Connections accepted through these loops and still open, per loop; empty before the first bind. */
    int[] openPerLoop() {
        for (LeastTunnelsGroup group : children.values()) {
            return group.openPerLoop();
        }
        return new int[0];
    }

    private static EventLoopGroup unwrap(EventLoopGroup group) {
        return group instanceof LeastTunnelsGroup least ? least.delegate() : group;
    }
}
