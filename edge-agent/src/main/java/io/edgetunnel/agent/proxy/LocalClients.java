package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.tcp.ReadBuffers;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpMethod;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.HttpResources;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.transport.AddressUtils;

/**
 * The pools and HTTP clients of one event loop (or of none: {@code loop} null): HTTP/1.1 and HTTP/2
 * cleartext, each for requests without a body and with one, and the same clients bound to the
 * address of each plain {@code http://} local app met. A bound client is given a request's path
 * only, so Reactor Netty does not parse an absolute URL with its regular expression for every
 * request (issue 18); where it would read a local URL differently from {@link URI} (see {@link
 * #bindable}), the absolute URL is used as before.
 */
final class LocalClients {

    /**
     * Idle pooled connections are dropped before typical app keep-alive timeouts (Node: 5 s), so a
     * request never races the app closing an idle connection.
     */
    private static final Duration MAX_IDLE = Duration.ofSeconds(4);

    /** How often, and after how long unused, the pool of a target no longer used is dropped. */
    private static final Duration INACTIVE_POOL_CHECK = Duration.ofSeconds(60);

    private final ConnectionProvider provider;
    private final ConnectionProvider h2cProvider;
    private final Variants unbound;
    /** By local URL; as many as the routes. */
    private final Map<URI, Variants> bound = new ConcurrentHashMap<>();
    /** The loop of the {@link Http1Pool}s: this one's, or for exchanges off any loop one chosen once. */
    private final EventLoop http1Loop;
    private final int maxConnections;
    private final Duration connectTimeout;
    /**
     * Plain HTTP/1.1 connections for body-less requests, one pool per app address (routes to the same
     * app share its connections), found by local URL.
     */
    private final Map<SocketAddress, Http1Pool> http1 = new ConcurrentHashMap<>();
    private final Map<URI, Http1Pool> http1ByUrl = new ConcurrentHashMap<>();

    private LocalClients(ConnectionProvider provider, ConnectionProvider h2cProvider, Variants unbound,
            EventLoop http1Loop, int maxConnections, Duration connectTimeout) {
        this.provider = provider;
        this.h2cProvider = h2cProvider;
        this.unbound = unbound;
        this.http1Loop = http1Loop;
        this.maxConnections = maxConnections;
        this.connectTimeout = connectTimeout;
    }

    /** The clients of one exchange's kind. */
    record Variants(Client idempotent, Client body, Client h2cIdempotent, Client h2cBody) {

        Client pick(boolean h2c, boolean hasBody) {
            return h2c ? (hasBody ? h2cBody : h2cIdempotent) : (hasBody ? body : idempotent);
        }

        Variants boundTo(SocketAddress address) {
            Supplier<SocketAddress> remote = () -> address;
            return new Variants(idempotent.boundTo(remote), body.boundTo(remote), h2cIdempotent.boundTo(remote),
                    h2cBody.boundTo(remote));
        }
    }

    /**
     * A client and its requests of the common methods, made once: each {@code request(method)} copies
     * the client's whole configuration, one copy of the three every request made.
     */
    record Client(HttpClient http, HttpClient.RequestSender get, HttpClient.RequestSender head,
            HttpClient.RequestSender post, HttpClient.RequestSender put, HttpClient.RequestSender delete) {

        static Client of(HttpClient http) {
            return new Client(http, http.request(HttpMethod.GET), http.request(HttpMethod.HEAD),
                    http.request(HttpMethod.POST), http.request(HttpMethod.PUT), http.request(HttpMethod.DELETE));
        }

        HttpClient.RequestSender request(HttpMethod method) {
            if (method == HttpMethod.GET) {
                return get;
            } else if (method == HttpMethod.HEAD) {
                return head;
            } else if (method == HttpMethod.POST) {
                return post;
            } else if (method == HttpMethod.PUT) {
                return put;
            } else if (method == HttpMethod.DELETE) {
                return delete;
            }
            return http.request(method);
        }

        Client boundTo(Supplier<SocketAddress> remote) {
            return of(http.remoteAddress(remote));
        }
    }

    static LocalClients create(String name, AgentProperties.Local local, int maxConnections, EventLoop loop) {
        // pools are per remote address: targets found by DNS each get one, dropped once unused
        ConnectionProvider provider = ConnectionProvider.builder(name)
                .maxConnections(maxConnections)
                .pendingAcquireMaxCount(maxConnections * 4)
                .maxIdleTime(MAX_IDLE)
                .disposeInactivePoolsInBackground(INACTIVE_POOL_CHECK, INACTIVE_POOL_CHECK)
                .build();
        HttpClient idempotent = bind(HttpClient.create(provider), loop)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) local.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadBuffers.forSockets())
                .compress(false)
                .followRedirect(false)
                .keepAlive(true);
        // HTTP/2 connections are multiplexed and keyed differently: a pool of their own
        ConnectionProvider h2cProvider = ConnectionProvider.builder(name + "-h2c")
                .maxConnections(maxConnections)
                .pendingAcquireMaxCount(maxConnections * 4)
                .maxIdleTime(MAX_IDLE)
                .disposeInactivePoolsInBackground(INACTIVE_POOL_CHECK, INACTIVE_POOL_CHECK)
                .build();
        HttpClient h2cIdempotent = bind(HttpClient.create(h2cProvider), loop)
                .protocol(HttpProtocol.H2C)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) local.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadBuffers.forSockets())
                .compress(false)
                .followRedirect(false);
        // a streamed body can be read once: a silent retry on a fresh connection would resubscribe it
        return new LocalClients(provider, h2cProvider, new Variants(Client.of(idempotent),
                Client.of(idempotent.disableRetry(true)), Client.of(h2cIdempotent),
                Client.of(h2cIdempotent.disableRetry(true))),
                loop != null ? loop : HttpResources.get().onClient(true).next(), maxConnections, local.connectTimeout());
    }

    private static HttpClient bind(HttpClient client, EventLoop loop) {
        return loop == null ? client : client.runOn(loop);
    }

    /** The clients given absolute URLs (or, for targets found by DNS, an address per attempt). */
    Variants unbound() {
        return unbound;
    }

    /** The clients bound to {@code localUrl}'s address; only for a {@link #bindable} one. */
    Variants boundTo(URI localUrl) {
        Variants existing = bound.get(localUrl);
        return existing != null ? existing : bound.computeIfAbsent(localUrl, url -> unbound.boundTo(address(url)));
    }

    /**
     * Whether requests to {@code localUrl} may go to a bound client as a path: a plain {@code http}
     * URL with a host, no user info and a port Reactor Netty's URL pattern reads as one (two to five
     * digits), which it would turn into the same address and {@code Host} header.
     */
    static boolean bindable(URI localUrl) {
        int port = localUrl.getPort();
        return "http".equals(localUrl.getScheme()) && localUrl.getHost() != null && localUrl.getRawUserInfo() == null
                && (port == -1 || (port >= 10 && port <= 99_999));
    }

    /** The Host Reactor Netty sends to {@code localUrl}'s app when the client gave none: no port 80 or 443. */
    static String defaultHost(URI localUrl) {
        int port = localUrl.getPort();
        return port == -1 || port == 80 || port == 443 ? localUrl.getHost() : localUrl.getHost() + ":" + port;
    }

    /** The address Reactor Netty makes of an absolute URL's host and port. */
    private static SocketAddress address(URI localUrl) {
        String host = localUrl.getHost();
        if (host.length() > 1 && host.charAt(0) == '[' && host.charAt(host.length() - 1) == ']') {
            host = host.substring(1, host.length() - 1);
        }
        return AddressUtils.createUnresolved(host, localUrl.getPort() != -1 ? localUrl.getPort() : 80);
    }

    /** The HTTP/1.1 pool for body-less requests to {@code localUrl}, a {@link #bindable} one. */
    Http1Pool http1Pool(URI localUrl) {
        Http1Pool existing = http1ByUrl.get(localUrl);
        return existing != null ? existing : http1ByUrl.computeIfAbsent(localUrl, url -> http1.computeIfAbsent(
                address(url), address -> new Http1Pool(
                        http1Loop, (InetSocketAddress) address, maxConnections, connectTimeout, MAX_IDLE)));
    }

    ConnectionProvider provider() {
        return provider;
    }

    Mono<Void> disposeLater() {
        for (Http1Pool pool : http1.values()) {
            try {
                pool.loop().execute(pool::close);
            } catch (RejectedExecutionException e) {
                // the loop is gone, and its connections with it
            }
        }
        return Mono.when(provider.disposeLater(), h2cProvider.disposeLater());
    }
}
