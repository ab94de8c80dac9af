package io.edgetunnel.agent.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.config.AgentProperties;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.netty.tcp.TcpResources;

/**
 * An SRV answer that arrives after its lookup was cancelled (the health checker stopping, a client
 * gone) is dropped, and the buffers of the DNS response it holds are released: nothing the resolver's
 * socket allocated stays allocated. A DNS server on loopback answers one name only after a delay.
 */
class DnsTargetsLateAnswerTests {

    private static final String LATE = "_app._tcp.late.test";
    private static final String PROMPT = "_app._tcp.prompt.test";

    private final EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final CountDownLatch lateAsked = new CountDownLatch(1);
    private final CountDownLatch lateAnswered = new CountDownLatch(1);
    private Channel server;
    private DnsTargets targets;

    @BeforeEach
    void start() {
        server = new Bootstrap()
                .group(serverGroup)
                .channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new DelayedAnswerer());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .syncUninterruptibly()
                .channel();
    }

    @AfterEach
    void stop() {
        if (targets != null) {
            targets.close();
        }
        server.close().syncUninterruptibly();
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void anAnswerThatComesAfterTheLookupWasCancelledIsReleased() throws Exception {
        UnpooledByteBufAllocator counted = new UnpooledByteBufAllocator(true, true);
        InetSocketAddress local = (InetSocketAddress) server.localAddress();
        targets = new DnsTargets(new AgentProperties.Dns(
                List.of(local.getAddress().getHostAddress() + ":" + local.getPort()),
                Duration.ofSeconds(1), Duration.ofSeconds(60)), counted);
        EventLoop loop = TcpResources.get().onClient(true).next();

        Disposable lookup = targets.candidates(URI.create("dns+srv://" + LATE), loop).subscribe(list -> { }, e -> { });
        assertThat(lateAsked.await(10, TimeUnit.SECONDS)).isTrue();
        lookup.dispose();
        assertThat(lateAnswered.await(10, TimeUnit.SECONDS)).isTrue();

        // the resolver reads its socket in order: once a later answer was taken, the late one was too
        List<InetSocketAddress> prompt = targets.candidates(URI.create("dns+srv://" + PROMPT), loop)
                .block(Duration.ofSeconds(10));
        assertThat(prompt).extracting(InetSocketAddress::getPort).containsExactly(4242);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                counted.metric().usedDirectMemory() + counted.metric().usedHeapMemory()).isZero());
    }

    /** Answers SRV for {@link #LATE} half a second late, for {@link #PROMPT} at once (one A for its target). */
    private final class DelayedAnswerer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DnsQuestion question = query.recordAt(DnsSection.QUESTION);
            String name = question.name().endsWith(".")
                    ? question.name().substring(0, question.name().length() - 1) : question.name();
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.addRecord(DnsSection.QUESTION, question);
            if (question.type() == DnsRecordType.SRV) {
                response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(
                        question.name(), DnsRecordType.SRV, 30, srv(4242, "target.test")));
            } else if (question.type() == DnsRecordType.A && name.equals("target.test")) {
                response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(
                        question.name(), DnsRecordType.A, 30, Unpooled.wrappedBuffer(new byte[] {127, 0, 0, 1})));
            }
            if (name.equals(LATE)) {
                lateAsked.countDown();
                ctx.executor().schedule(() -> {
                    ctx.writeAndFlush(response).addListener(f -> lateAnswered.countDown());
                }, 500, TimeUnit.MILLISECONDS);
            } else {
                ctx.writeAndFlush(response);
            }
        }
    }

    private static ByteBuf srv(int port, String target) {
        ByteBuf out = Unpooled.buffer().writeShort(10).writeShort(1).writeShort(port);
        for (String label : target.split("\\.")) {
            out.writeByte(label.length()).writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        return out.writeByte(0);
    }
}
