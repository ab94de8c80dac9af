package io.edgetunnel.e2e.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
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
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A DNS server on a random loopback UDP port (Netty's DNS codec) answering A and SRV questions from
 * tables a test changes while it runs; anything else is NXDOMAIN. Records carry a 1 s TTL.
 */
public final class LoopbackDnsServer implements AutoCloseable {

    /** One SRV record. */
    public record Srv(int priority, int weight, int port, String target) {}

    private final Map<String, List<InetAddress>> a = new ConcurrentHashMap<>();
    private final Map<String, List<Srv>> srv = new ConcurrentHashMap<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel channel;

    public LoopbackDnsServer() {
        channel = new Bootstrap()
                .group(group)
                .channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(), new Answerer());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .syncUninterruptibly()
                .channel();
    }

    /** {@code host:port} of the server, for {@code agent.dns.servers}. */
    public String address() {
        InetSocketAddress local = (InetSocketAddress) channel.localAddress();
        return local.getAddress().getHostAddress() + ":" + local.getPort();
    }

    public void a(String name, InetAddress... addresses) {
        a.put(name.toLowerCase(Locale.ROOT), List.of(addresses));
    }

    public void srv(String name, Srv... records) {
        srv.put(name.toLowerCase(Locale.ROOT), List.of(records));
    }

    private final class Answerer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DnsQuestion question = query.recordAt(DnsSection.QUESTION);
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.addRecord(DnsSection.QUESTION, question);
            String name = question.name().toLowerCase(Locale.ROOT);
            String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
            boolean found = false;
            if (question.type() == DnsRecordType.A) {
                for (InetAddress address : a.getOrDefault(bare, List.of())) {
                    if (address.getAddress().length == 4) {
                        response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(
                                question.name(), DnsRecordType.A, 1, Unpooled.wrappedBuffer(address.getAddress())));
                        found = true;
                    }
                }
                found |= a.containsKey(bare);
            } else if (question.type() == DnsRecordType.SRV) {
                for (Srv record : srv.getOrDefault(bare, List.of())) {
                    response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(
                            question.name(), DnsRecordType.SRV, 1, rdata(record)));
                    found = true;
                }
            } else {
                // AAAA and the rest: the name may exist, with no record of that type
                found = a.containsKey(bare) || srv.containsKey(bare);
            }
            if (!found) {
                response.setCode(DnsResponseCode.NXDOMAIN);
            }
            ctx.writeAndFlush(response);
        }
    }

    private static ByteBuf rdata(Srv record) {
        ByteBuf out = Unpooled.buffer();
        out.writeShort(record.priority()).writeShort(record.weight()).writeShort(record.port());
        for (String label : record.target().split("\\.")) {
            byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
            out.writeByte(bytes.length).writeBytes(bytes);
        }
        return out.writeByte(0);
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
