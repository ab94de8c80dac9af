package io.edgetunnel.agent.discovery;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Predicate;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpResources;

/**
 * The addresses to try, in order, for one connection (TCP route) or request (HTTP route) whose
 * target is found by DNS:
 * {@code dns://name:port} gives every A/AAAA address of the name in random order;
 * {@code dns+srv://_service._tcp.name} gives the SRV targets, lowest priority first and within a
 * priority in a weighted random order (RFC 2782), each target's addresses in turn. The connector
 * tries them one after the other ({@link #tryInOrder}), so a refused target is skipped to the next. Lookups use Netty's
 * non-blocking resolver on the caller's event loop; answers are cached by their TTL, bounded by
 * {@code agent.dns.min-ttl} and {@code max-ttl}.
 */
public final class DnsTargets {

    private final AgentProperties.Dns settings;
    private final Map<EventLoop, DnsNameResolver> resolvers = new ConcurrentHashMap<>();
    private final Map<String, Cached> srvCache = new ConcurrentHashMap<>();

    /** Where the resolvers' UDP sockets take their buffers; null: Netty's default. */
    private final ByteBufAllocator allocator;

    public DnsTargets(AgentProperties.Dns settings) {
        this(settings, null);
    }

    /** With {@code allocator} for the DNS responses' buffers (tests count what stays allocated). */
    DnsTargets(AgentProperties.Dns settings, ByteBufAllocator allocator) {
        this.settings = settings;
        this.allocator = allocator;
    }

    /** Closes every resolver (their UDP sockets); later lookups open new ones. */
    public void close() {
        resolvers.values().forEach(DnsNameResolver::close);
        resolvers.clear();
    }

    /** One SRV record's data. */
    record Srv(int priority, int weight, int port, String target) {}

    private record Cached(List<Srv> records, long expiresNanos) {}

    /** Whether {@code url} is found by DNS (else it is a fixed {@code tcp://host:port} or {@code http://...}). */
    public static boolean byDns(URI url) {
        return "dns".equals(url.getScheme()) || "dns+srv".equals(url.getScheme());
    }

    /**
     * What is wrong with {@code url} as a target found by DNS, or null when it is one: {@code
     * dns://name:port} (a host name and a port) or {@code dns+srv://_service._tcp.name} (a name, no
     * port: the records give it); neither takes user info.
     */
    public static String problem(URI url) {
        String authority = url.getRawAuthority();
        if (authority == null || authority.isEmpty() || authority.contains("@")) {
            return "no name";
        }
        if ("dns+srv".equals(url.getScheme())) {
            return authority.indexOf(':') >= 0 ? "a port (the SRV records give it)" : null;
        }
        if ("dns".equals(url.getScheme())) {
            return url.getHost() == null || url.getPort() <= 0 ? "no host name and port" : null;
        }
        return "scheme " + url.getScheme();
    }

    /**
     * {@code attempt} on the first candidate for {@code url}, then on the next one for as long as it
     * fails with an error {@code retry} accepts; the last error when every candidate failed.
     */
    public <T> Mono<T> tryInOrder(URI url, EventLoop loop, Function<InetSocketAddress, Mono<T>> attempt,
            Predicate<Throwable> retry) {
        return candidates(url, loop).flatMap(addresses -> tryFrom(addresses, 0, attempt, retry));
    }

    private static <T> Mono<T> tryFrom(List<InetSocketAddress> addresses, int index,
            Function<InetSocketAddress, Mono<T>> attempt, Predicate<Throwable> retry) {
        return attempt.apply(addresses.get(index)).onErrorResume(
                e -> index + 1 < addresses.size() && retry.test(e),
                e -> tryFrom(addresses, index + 1, attempt, retry));
    }

    /** The caller's event loop (a tunnel's), or one of Reactor Netty's shared loops: where lookups run. */
    public static EventLoop callerLoop() {
        EventExecutor current = EventLoopSchedulers.currentLoop();
        return current instanceof EventLoop loop ? loop : TcpResources.get().onClient(true).next();
    }

    /**
     * The candidate addresses for one connection; errors when DNS has none. Each address keeps the
     * name it was found under ({@link InetSocketAddress#getHostString()}), with no further lookup.
     */
    public Mono<List<InetSocketAddress>> candidates(URI url, EventLoop loop) {
        DnsNameResolver resolver = resolver(loop);
        if ("dns".equals(url.getScheme())) {
            return addresses(resolver, url.getHost(), url.getPort()).map(list -> {
                List<InetSocketAddress> shuffled = new ArrayList<>(list);
                Collections.shuffle(shuffled, ThreadLocalRandom.current());
                return shuffled;
            });
        }
        String name = url.getRawAuthority();
        return srv(resolver, name)
                .flatMapMany(records -> Flux.fromIterable(order(records)))
                .concatMap(srv -> addresses(resolver, srv.target(), srv.port()).onErrorResume(e -> Mono.empty()))
                .flatMapIterable(list -> list)
                .collectList()
                .flatMap(list -> list.isEmpty()
                        ? Mono.error(new java.net.UnknownHostException("no reachable SRV target for " + name))
                        : Mono.just(list));
    }

    private static Mono<List<InetSocketAddress>> addresses(DnsNameResolver resolver, String host, int port) {
        return Mono.<List<InetAddress>>create(sink -> {
            Future<List<InetAddress>> lookup = resolver.resolveAll(host);
            lookup.addListener(f -> {
                if (f.isSuccess()) {
                    sink.success(lookup.getNow());
                } else {
                    sink.error(f.cause());
                }
            });
        }).map(list -> list.stream().map(address -> new InetSocketAddress(address, port)).toList());
    }

    private Mono<List<Srv>> srv(DnsNameResolver resolver, String name) {
        Cached cached = srvCache.get(name);
        if (cached != null && cached.expiresNanos() - System.nanoTime() > 0) {
            return Mono.just(cached.records());
        }
        return Mono.<List<DnsRecord>>create(sink -> {
            Future<List<DnsRecord>> lookup = resolver.resolveAll(new DefaultDnsQuestion(name, DnsRecordType.SRV));
            lookup.addListener(f -> {
                if (f.isSuccess()) {
                    sink.success(lookup.getNow());
                } else {
                    sink.error(f.cause());
                }
            });
        })
                // an answer that comes after the lookup was cancelled (a timeout, a client gone) is
                // dropped by the sink: its records hold buffers of the DNS response
                .doOnDiscard(List.class, records -> records.forEach(ReferenceCountUtil::release))
                .map(records -> {
            List<Srv> parsed = new ArrayList<>();
            long ttl = Long.MAX_VALUE;
            try {
                for (DnsRecord record : records) {
                    if (record.type() == DnsRecordType.SRV && record instanceof DnsRawRecord raw) {
                        parsed.add(parse(raw.content()));
                        ttl = Math.min(ttl, record.timeToLive());
                    }
                }
            } finally {
                records.forEach(ReferenceCountUtil::release);
            }
            Duration keep = clamp(Duration.ofSeconds(ttl == Long.MAX_VALUE ? 0 : ttl));
            srvCache.put(name, new Cached(List.copyOf(parsed), System.nanoTime() + keep.toNanos()));
            return parsed;
        });
    }

    private Duration clamp(Duration ttl) {
        if (ttl.compareTo(settings.minTtl()) < 0) {
            return settings.minTtl();
        }
        return ttl.compareTo(settings.maxTtl()) > 0 ? settings.maxTtl() : ttl;
    }

    /** SRV rdata: priority, weight, port, target (uncompressed, as RFC 2782 requires). */
    static Srv parse(ByteBuf data) {
        ByteBuf in = data.duplicate();
        int priority = in.readUnsignedShort();
        int weight = in.readUnsignedShort();
        int port = in.readUnsignedShort();
        StringBuilder name = new StringBuilder();
        while (in.isReadable()) {
            int length = in.readUnsignedByte();
            if (length == 0) {
                break;
            }
            if ((length & 0xC0) != 0) {
                throw new IllegalArgumentException("SRV target: a compressed name (expected: uncompressed, RFC 2782)");
            }
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(in.readCharSequence(length, StandardCharsets.US_ASCII));
        }
        return new Srv(priority, weight, port, name.toString());
    }

    /** Lowest priority first; within one, a weighted random order (RFC 2782); target "." means none. */
    static List<Srv> order(List<Srv> records) {
        List<Srv> usable = new ArrayList<>(records.stream().filter(r -> !r.target().isEmpty()).toList());
        usable.sort(Comparator.comparingInt(Srv::priority));
        List<Srv> ordered = new ArrayList<>();
        int i = 0;
        while (i < usable.size()) {
            int j = i;
            while (j < usable.size() && usable.get(j).priority() == usable.get(i).priority()) {
                j++;
            }
            List<Srv> group = new ArrayList<>(usable.subList(i, j));
            while (!group.isEmpty()) {
                int total = group.stream().mapToInt(r -> r.weight() + 1).sum();
                int pick = ThreadLocalRandom.current().nextInt(total);
                int k = 0;
                while (pick >= group.get(k).weight() + 1) {
                    pick -= group.get(k).weight() + 1;
                    k++;
                }
                ordered.add(group.remove(k));
            }
            i = j;
        }
        return ordered;
    }

    /** An IP literal as an address, without any lookup (this runs on an event loop). */
    private static InetAddress literal(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(bare);
        if (bytes == null) {
            throw new IllegalArgumentException("agent.dns.servers: " + host + " (expected: an IP address)");
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("agent.dns.servers: " + host + " (expected: an IP address)", e);
        }
    }

    private DnsNameResolver resolver(EventLoop loop) {
        return resolvers.computeIfAbsent(loop, l -> {
            Class<? extends DatagramChannel> type = TcpResources.get().onChannelClass(DatagramChannel.class, l);
            DnsNameResolverBuilder builder = new DnsNameResolverBuilder(l);
            if (allocator == null) {
                builder.datagramChannelType(type);
            } else {
                ChannelFactory<? extends DatagramChannel> channels = new ReflectiveChannelFactory<>(type);
                builder.datagramChannelFactory(() -> {
                    DatagramChannel channel = channels.newChannel();
                    channel.config().setAllocator(allocator);
                    return channel;
                });
            }
            builder.ttl((int) settings.minTtl().toSeconds(), (int) Math.max(1, settings.maxTtl().toSeconds()))
                    .negativeTtl((int) settings.minTtl().toSeconds());
            if (settings.servers().isEmpty()) {
                builder.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
            } else {
                List<InetSocketAddress> servers = new ArrayList<>();
                for (String server : settings.servers()) {
                    int colon = server.lastIndexOf(':');
                    servers.add(new InetSocketAddress(
                            literal(server.substring(0, colon)), Integer.parseInt(server.substring(colon + 1))));
                }
                builder.nameServerProvider(new SequentialDnsServerAddressStreamProvider(servers));
            }
            return builder.build();
        });
    }
}
