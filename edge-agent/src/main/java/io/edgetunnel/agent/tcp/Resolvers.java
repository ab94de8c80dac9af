package io.edgetunnel.agent.tcp;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.util.concurrent.atomic.AtomicReference;
import reactor.netty.resources.LoopResources;

/**
 * Netty's non-blocking DNS resolver for the targets of TCP routes (it reads {@code /etc/hosts} and
 * {@code /etc/resolv.conf}); one for the process, created on first use, caching by the records' TTL.
 */
final class Resolvers {

    private static final AtomicReference<DnsAddressResolverGroup> SHARED = new AtomicReference<>();

    private Resolvers() {
    }

    static DnsAddressResolverGroup of(LoopResources loops, EventLoopGroup group) {
        DnsAddressResolverGroup existing = SHARED.get();
        if (existing != null) {
            return existing;
        }
        DnsAddressResolverGroup created = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(loops.onChannelClass(DatagramChannel.class, group)));
        return SHARED.compareAndSet(null, created) ? created : SHARED.get();
    }
}
