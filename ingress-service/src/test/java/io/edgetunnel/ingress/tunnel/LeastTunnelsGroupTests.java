package io.edgetunnel.ingress.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.local.LocalChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeastTunnelsGroupTests {

    private final DefaultEventLoopGroup loops = new DefaultEventLoopGroup(2);
    private final List<Channel> channels = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        channels.forEach(Channel::close);
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }

    private Channel register(LeastTunnelsGroup group) throws InterruptedException {
        Channel channel = new LocalChannel();
        group.register(channel).sync();
        channels.add(channel);
        return channel;
    }

    @Test
    void eachChannelGoesToTheLoopWithTheFewestOpen() throws InterruptedException {
        LeastTunnelsGroup group = new LeastTunnelsGroup(loops);
        Channel first = register(group);
        // round-robin elsewhere on the same loops does not move the next tunnel onto the first one's loop
        loops.next();
        Channel second = register(group);
        assertThat(second.eventLoop()).isNotSameAs(first.eventLoop());
        register(group);
        register(group);
        assertThat(group.openPerLoop()).containsExactly(2, 2);

        first.close().sync();
        Channel replacement = register(group);
        assertThat(replacement.eventLoop()).isSameAs(first.eventLoop());
        assertThat(group.openPerLoop()).containsExactly(2, 2);
    }

    @Test
    void theViewNeverShutsTheLoopsDown() {
        LeastTunnelsGroup group = new LeastTunnelsGroup(loops);
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        assertThat(loops.isShuttingDown()).isFalse();
        assertThat(group.next()).isIn(loops.iterator().next(), loops.next(), loops.next());
    }
}
