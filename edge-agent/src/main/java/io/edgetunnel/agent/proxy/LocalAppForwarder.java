package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.LocalProtocol;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.discovery.DnsTargets;
import io.edgetunnel.agent.tcp.LocalTcpConnector;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.EventExecutor;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.springframework.beans.factory.DisposableBean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.scheduler.Scheduler;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * Sends one tunneled request to its route's local app and hands the response to a {@link
 * ResponseRelay}, streaming both ways through a pooled Reactor Netty client with its own connection
 * pool: HTTP/1.1, or HTTP/2 cleartext for {@link LocalProtocol#H2C} routes (gRPC apps); response
 * trailers are relayed either way. Failures become a {@link LocalExchangeException} carrying the
 * reset code the ingress maps to a status: connect failure → {@link
 * ResetCode#UPSTREAM_CONNECT_FAILED} (502), no response headers within the response timeout → {@link
 * ResetCode#UPSTREAM_TIMEOUT} (504), anything else → {@link ResetCode#UPSTREAM_ERROR}. Cancelling the
 * returned Mono closes the local connection.
 */
public final class LocalAppForwarder implements DisposableBean {

    static final String METRIC = "tunnel.agent.local.requests";

    /** Clients for exchanges started off an event loop (tests, callers outside the tunnel). */
    private final LocalClients shared;
    /**
     * One set of clients per tunnel event loop, created on first use: an exchange started on a
     * tunnel's loop runs its local connection on that loop too, so the request and response bytes
     * never change threads between the tunnel and the app.
     */
    private final Map<EventExecutor, LocalClients> perLoop = new ConcurrentHashMap<>();
    private final AgentProperties.Local local;
    private final int perLoopConnections;
    private final Duration responseTimeout;
    private final Duration idleTimeout;
    private final MeterRegistry meters;
    private final LocalWebSocketForwarder websockets;
    private final LocalTcpConnector tcp;
    private final DnsTargets dnsTargets;
    private volatile boolean destroyed;
    /**
     * The request timers met so far: a builder, its tags and the registry's lookup per request cost
     * more than the timing (issue 18). Bounded by the routes, and the registry keeps them anyway.
     */
    private final Map<RequestTimer, Timer> timers = new ConcurrentHashMap<>();

    public LocalAppForwarder(AgentProperties.Local local, MeterRegistry meters) {
        this(local, meters, 1);
    }

    /**
     * @param tunnelCount the agent's tunnels: the event loops they run on share {@code
     *     local.maxConnections()}, each loop's pools holding an equal part of it
     */
    public LocalAppForwarder(AgentProperties.Local local, MeterRegistry meters, int tunnelCount) {
        this(local, meters, tunnelCount, AgentProperties.Dns.DEFAULTS);
    }

    /** @param dns lookups of route targets found by DNS (HTTP and TCP) */
    public LocalAppForwarder(AgentProperties.Local local, MeterRegistry meters, int tunnelCount, AgentProperties.Dns dns) {
        this.local = Objects.requireNonNull(local, "local");
        this.meters = Objects.requireNonNull(meters, "meters");
        this.dnsTargets = new DnsTargets(Objects.requireNonNull(dns, "dns"));
        this.websockets = new LocalWebSocketForwarder(local, dnsTargets);
        this.tcp = new LocalTcpConnector(local.connectTimeout(), dnsTargets);
        this.responseTimeout = local.responseTimeout();
        this.idleTimeout = local.idleTimeout();
        // tunnels outnumbering the event loops share them: a loop serves at most this many of them
        int loopsInUse = Math.max(1, Math.min(tunnelCount, LoopResources.DEFAULT_IO_WORKER_COUNT));
        this.perLoopConnections = Math.max(1, (local.maxConnections() + loopsInUse - 1) / loopsInUse);
        this.shared = LocalClients.create("edge-agent-local", local, local.maxConnections(), null);
    }

    /** The caller's event loop's clients, or the shared ones off a loop (or after shutdown began). */
    private LocalClients clients() {
        EventExecutor current = EventLoopSchedulers.currentLoop();
        if (!(current instanceof EventLoop loop)) {
            return shared;
        }
        LocalClients existing = perLoop.get(loop);
        if (existing != null) {
            return existing;
        }
        // once per loop: under the lock destroy() takes, so no pool is created after it disposed them
        synchronized (perLoop) {
            if (destroyed) {
                return shared;
            }
            return perLoop.computeIfAbsent(loop, l -> LocalClients.create(
                    "edge-agent-local-loop" + perLoop.size(), local, perLoopConnections, loop));
        }
    }

    /** Connects the streams of TCP routes (spec section 20) to their targets. */
    public LocalTcpConnector tcp() {
        return tcp;
    }

    /** Looks up route targets found by DNS; the health checks share it. */
    public DnsTargets dnsTargets() {
        return dnsTargets;
    }

    /** Forwards WebSocket upgrades (spec section 19) to the same local apps. */
    public LocalWebSocketForwarder websockets() {
        return websockets;
    }

    /**
     * Forwards {@code request}; the Mono completes when the relay finished the response body and
     * errors with a {@link LocalExchangeException} when the exchange failed.
     */
    public Mono<Void> forward(LocalRequest request, ResponseRelay relay) {
        return Mono.defer(() -> exchange(request, relay));
    }

    private Mono<Void> exchange(LocalRequest request, ResponseRelay relay) {
        Route route = request.route();
        String target = route.localTarget(request.target());
        if (request.body() == null && route.protocol() != LocalProtocol.H2C && LocalClients.bindable(route.localUrl())
                && !hasLineTerminator(target)) {
            return plainExchange(request, target, relay);
        }
        AtomicBoolean headersReceived = new AtomicBoolean();
        AtomicInteger status = new AtomicInteger();
        AtomicReference<ResetCode> failure = new AtomicReference<>();
        Timer.Sample sample = Timer.start(meters);
        HttpMethod method = HttpMethod.valueOf(request.method().toUpperCase(Locale.ROOT));
        Duration responseTimeout = route.responseTimeout() != null ? route.responseTimeout() : this.responseTimeout;
        IdleWatch idle = new IdleWatch(route.idleTimeout() != null ? route.idleTimeout() : this.idleTimeout);
        long bodyLimit = route.maxRequestBodyBytes();
        Publisher<ByteBuf> requestBody = request.body();
        if (requestBody != null && bodyLimit >= 0) {
            long declared = LocalHeaders.declaredLength(request.headers());
            if (declared > bodyLimit) {
                // nothing sent yet: the stream's reset cancels the body, whose buffers the tunnel releases
                return Mono.error(LocalFailures.tooLarge(route));
            }
            AtomicLong total = new AtomicLong();
            requestBody = Flux.from(requestBody).<ByteBuf>handle((buf, sink) -> {
                if (total.addAndGet(buf.readableBytes()) > bodyLimit) {
                    buf.release();
                    sink.error(LocalFailures.tooLarge(route));
                } else {
                    sink.next(buf);
                }
            }).doOnDiscard(ByteBuf.class, LocalAppForwarder::releaseFully);
        }
        Publisher<ByteBuf> body = requestBody == null ? null : Flux.from(requestBody).doOnNext(buf -> idle.touch());

        boolean h2c = route.protocol() == LocalProtocol.H2C;
        LocalClients clients = clients();
        // a plain http app's clients know its address: they take the path, parsed by no URL pattern
        boolean bound = LocalClients.bindable(route.localUrl()) && !hasLineTerminator(target);
        LocalClients.Client client = (bound ? clients.boundTo(route.localUrl()) : clients.unbound()).pick(h2c, body != null);
        String url = bound ? pathAndQuery(route.localUrl(), target) : url(route.localUrl(), target);
        AtomicReference<List<Header>> trailers = new AtomicReference<>(List.of());
        AtomicBoolean sent = new AtomicBoolean();
        Function<HttpClient.RequestSender, Mono<Void>> attempt = sender -> sender
                .uri(url)
                .send((req, out) -> {
                    sent.set(true);
                    LocalHeaders.copyRequestHeaders(request.headers(), req, body != null, route);
                    return body == null ? out : out.send(body);
                })
                .response((res, resBody) -> {
                    idle.touch();
                    headersReceived.set(true);
                    status.set(res.status().code());
                    // the trailers arrive with the body's end; they are read before the relay sees it complete
                    Flux<ByteBuf> bodyThenTrailers = resBody.retain()
                            .doOnNext(buf -> idle.touch())
                            .concatWith(res.trailerHeaders()
                                    .doOnNext(fields -> trailers.set(HopByHopHeaders.strip(fields)))
                                    .then(Mono.empty()));
                    return relay.relay(
                            res.status().code(),
                            LocalHeaders.rewriteResponseHeaders(HopByHopHeaders.strip(res.responseHeaders()), route),
                            isEmptyBody(method, res),
                            bodyThenTrailers,
                            trailers::get);
                })
                .then();
        // a target found by DNS: the next one while the last refused before anything was sent
        // a fixed target: once more when its connect failed (nothing was sent: a listen queue that
        // overflowed for an instant under load must not cost the client a 502)
        Mono<Void> exchange = !DnsTargets.byDns(route.localUrl())
                ? attempt.apply(client.request(method)).onErrorResume(
                        e -> !sent.get() && LocalFailures.isConnectFailure(e) && !(e instanceof UnknownHostException),
                        e -> attempt.apply(client.request(method)))
                : dnsTargets.tryInOrder(route.localUrl(), DnsTargets.callerLoop(),
                        address -> attempt.apply(client.http().remoteAddress(() -> address).request(method)),
                        e -> !sent.get() && LocalFailures.isConnectFailure(e));

        // timers on the exchange's own event loop: no wake-up of another thread per request
        Scheduler timers = EventLoopSchedulers.current();
        Mono<Void> headerTimer = Mono.delay(responseTimeout, timers)
                .then(Mono.defer(() -> headersReceived.get()
                        ? Mono.<Void>never()
                        : Mono.error(new LocalExchangeException(
                                ResetCode.UPSTREAM_TIMEOUT,
                                "local app " + route.localUrl() + " sent no response headers within "
                                        + responseTimeout,
                                null))));

        Mono<Void> idleTimer = idle.expiry(timers, headersReceived::get, () -> new LocalExchangeException(
                ResetCode.UPSTREAM_TIMEOUT,
                "no body bytes either way for " + idle.timeout() + " on route " + route.claim(), null));

        return Mono.firstWithSignal(exchange, headerTimer, idleTimer)
                .onErrorMap(e -> !(e instanceof LocalExchangeException), e -> LocalFailures.classify(e, headersReceived.get(), route))
                .doOnError(e -> failure.set(((LocalExchangeException) e).resetCode()))
                .doFinally(signal -> record(sample, route, status.get(), signal, failure.get()));
    }

    /** A body-less request to a plain http app: straight on Netty's codec, over its loop's pool. */
    private Mono<Void> plainExchange(LocalRequest request, String target, ResponseRelay relay) {
        Route route = request.route();
        Timer.Sample sample = Timer.start(meters);
        HttpMethod method;
        HttpHeaders headers = new DefaultHttpHeaders();
        try {
            method = HttpMethod.valueOf(request.method().toUpperCase(Locale.ROOT));
            headers.set(HttpHeaderNames.HOST, LocalClients.defaultHost(route.localUrl()));
            LocalHeaders.copyRequestHeaders(request.headers(), headers, false, route);
            if (!noBodyFraming(method) && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                // as Reactor Netty frames an empty body: apps that want a length (411) take this one
                headers.set(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
        } catch (IllegalArgumentException e) {
            // a name or value the codec refuses: the app never sees the request
            LocalExchangeException failure = LocalFailures.classify(e, false, route);
            record(sample, route, 0, SignalType.ON_ERROR, failure.resetCode());
            return Mono.error(failure);
        }
        Http1Exchange exchange = new Http1Exchange(clients().http1Pool(route.localUrl()), route,
                method, pathAndQuery(route.localUrl(), target), headers, relay,
                route.responseTimeout() != null ? route.responseTimeout() : responseTimeout,
                route.idleTimeout() != null ? route.idleTimeout() : idleTimeout,
                (status, signal, failure) -> record(sample, route, status, signal, failure));
        return Mono.create(exchange::start);
    }

    /** The methods whose requests Reactor Netty sends without a body's framing when they have none. */
    private static boolean noBodyFraming(HttpMethod method) {
        return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.DELETE;
    }

    private static void releaseFully(ByteBuf buf) {
        if (buf.refCnt() > 0) {
            buf.release();
        }
    }

    private static boolean isEmptyBody(HttpMethod method, HttpClientResponse res) {
        int code = res.status().code();
        if (HttpMethod.HEAD.equals(method) || code == 204 || code == 304 || code < 200) {
            return true;
        }
        String length = res.responseHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        return length != null && "0".equals(length.trim());
    }

    /**
     * The URL of {@code target} on the local app at {@code base} (whose path, if any, is kept as a
     * prefix); only the path for a target found by DNS, whose address comes with each request.
     */
    public static String url(URI base, String target) {
        String path = path(base);
        String suffix = target.startsWith("/") ? target : "/" + target;
        return DnsTargets.byDns(base) ? path + suffix : base.getScheme() + "://" + base.getRawAuthority() + path + suffix;
    }

    /**
     * The path and query {@link #url} gives Reactor Netty for {@code target} on {@code base}, as it
     * sends them: without a fragment.
     */
    static String pathAndQuery(URI base, String target) {
        String path = path(base) + (target.startsWith("/") ? target : "/" + target);
        int fragment = path.indexOf('#');
        return fragment < 0 ? path : path.substring(0, fragment);
    }

    /**
     * Line terminators end Reactor Netty's URL pattern, which then refuses the URL: such a target
     * takes the absolute URL's way, to fail as it did.
     */
    private static boolean hasLineTerminator(String target) {
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return true;
            }
        }
        return false;
    }

    private static String path(URI base) {
        String path = base.getRawPath() == null ? "" : base.getRawPath();
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private void record(Timer.Sample sample, Route route, int status, SignalType signal, ResetCode failure) {
        String outcome;
        if (signal == SignalType.CANCEL) {
            outcome = "cancelled";
        } else if (failure == null) {
            outcome = "success";
        } else if (failure == ResetCode.UPSTREAM_CONNECT_FAILED) {
            outcome = "connect_failed";
        } else if (failure == ResetCode.UPSTREAM_TIMEOUT) {
            outcome = "timeout";
        } else {
            outcome = "error";
        }
        RequestTimer key = new RequestTimer(route.host(), route.pathPrefix(), status == 0 ? -1 : status / 100, outcome);
        Timer timer = timers.get(key);
        if (timer == null) {
            timer = timers.computeIfAbsent(key, k -> Timer.builder(METRIC)
                    .description("Requests forwarded to local apps")
                    .tag("route", route.claim().toString())
                    .tag("status_class", k.statusClass() < 0 ? "none" : k.statusClass() + "xx")
                    .tag("outcome", k.outcome())
                    .publishPercentileHistogram()
                    .register(meters));
        }
        sample.stop(timer);
    }

    /** One request timer: the route's host and prefix (its claim), the status class (-1: none), the outcome. */
    private record RequestTimer(String host, String pathPrefix, int statusClass, String outcome) {}

    /** The HTTP/1.1 pool of exchanges started off an event loop; closed with the context. */
    ConnectionProvider connectionProvider() {
        return shared.provider();
    }

    /** The connection limit of each event loop's pools. */
    int perLoopConnections() {
        return perLoopConnections;
    }

    /** How many event loops have pools of their own so far: the loops tunnels' requests ran on. */
    public int eventLoopPools() {
        return perLoop.size();
    }

    @Override
    public void destroy() {
        synchronized (perLoop) {
            destroyed = true;
        }
        List<Mono<Void>> disposals = new ArrayList<>();
        disposals.add(shared.disposeLater());
        perLoop.values().forEach(clients -> disposals.add(clients.disposeLater()));
        Mono.when(disposals).block(Duration.ofSeconds(5));
        tcp.close();
    }
}
