package io.edgetunnel.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.support.LocalApp;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;

class LocalAppForwarderIntegrationTests {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /**
     * For the tests that are not about timeouts: patient, because a JVM's first exchange of a kind
     * (HTTP/2, chunked trailers) loads and BlockHound-instruments codecs, which has taken more than a
     * second on a busy CI machine.
     */
    private final LocalAppForwarder forwarder = forwarder(Duration.ofSeconds(10), Duration.ofSeconds(10));
    /** For the timeout tests: a 2 s header and a 0.8 s idle timeout. */
    private final LocalAppForwarder strict = forwarder(Duration.ofSeconds(2), Duration.ofMillis(800));
    private final List<LocalApp> apps = new ArrayList<>();

    private LocalAppForwarder forwarder(Duration responseTimeout, Duration idleTimeout) {
        return new LocalAppForwarder(
                new AgentProperties.Local(Duration.ofSeconds(5), responseTimeout, idleTimeout, 50,
                        new AgentProperties.Websocket(org.springframework.util.unit.DataSize.ofMegabytes(16))), meters);
    }

    @AfterEach
    void tearDown() {
        forwarder.destroy();
        strict.destroy();
        apps.forEach(LocalApp::close);
    }

    /** Collects the response; the body bytes are copied and every buffer released. */
    static final class Collector implements ResponseRelay {
        final CompletableFuture<Integer> status = new CompletableFuture<>();
        volatile List<Header> headers;
        volatile boolean emptyBody;
        volatile List<Header> trailers;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final AtomicInteger chunks = new AtomicInteger();
        volatile Thread chunkThread;

        @Override
        public Mono<Void> relay(int code, List<Header> responseHeaders, boolean empty, Flux<ByteBuf> content,
                java.util.function.Supplier<List<Header>> trailerFields) {
            headers = responseHeaders;
            emptyBody = empty;
            status.complete(code);
            return content.doOnNext(buf -> {
                        synchronized (body) {
                            body.writeBytes(ByteBufUtil.getBytes(buf));
                        }
                        chunks.incrementAndGet();
                        chunkThread = Thread.currentThread();
                        buf.release();
                    })
                    .count()
                    .doOnNext(count -> trailers = trailerFields.get())
                    .then();
        }

        String text() {
            synchronized (body) {
                return body.toString(StandardCharsets.UTF_8);
            }
        }

        String header(String name) {
            return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Header::value).findFirst().orElse(null);
        }
    }

    private LocalApp app(java.util.function.Consumer<reactor.netty.http.server.HttpServerRoutes> routes) {
        LocalApp app = new LocalApp(routes);
        apps.add(app);
        return app;
    }

    private static Route route(String url) {
        return new Route("demo.localhost", "/", URI.create(url));
    }

    @Test
    void h2cRouteSpeaksHttp2ToTheAppAndRelaysItsTrailers() {
        LocalApp app = new LocalApp(r -> r.post("/svc", (req, res) -> res
                        .header("content-type", "application/grpc")
                        .header("x-app-protocol", req.protocol())
                        .header("x-te", String.valueOf(req.requestHeaders().get("te")))
                        .trailerHeaders(t -> t.set("grpc-status", "5").set("grpc-message", "no such thing"))
                        .send(req.receive().retain())),
                reactor.netty.http.HttpProtocol.H2C);
        apps.add(app);
        Collector collector = new Collector();
        Route route = new Route("grpc.localhost", "/", URI.create(app.url()),
                io.edgetunnel.agent.config.HealthCheck.NONE, io.edgetunnel.agent.config.LocalProtocol.H2C);
        LocalRequest request = new LocalRequest(route, "POST", "/svc",
                List.of(new Header("Host", "grpc.localhost"), new Header("te", "trailers"),
                        new Header("content-type", "application/grpc")),
                Flux.just(ByteBufAllocator.DEFAULT.buffer().writeBytes("message".getBytes(StandardCharsets.UTF_8))));

        forwarder.forward(request, collector).block(Duration.ofSeconds(10));

        assertThat(collector.status).isCompletedWithValue(200);
        assertThat(collector.header("x-app-protocol")).isEqualTo("HTTP/2.0");
        assertThat(collector.header("x-te")).isEqualTo("trailers");
        assertThat(collector.text()).isEqualTo("message");
        assertThat(collector.headers).extracting(Header::name).noneMatch(name -> name.startsWith("x-http2-"));
        assertThat(collector.trailers).containsExactly(
                new Header("grpc-status", "5"), new Header("grpc-message", "no such thing"));
    }

    @Test
    void http1ChunkedResponseTrailersAreRelayed() {
        LocalApp app = app(r -> r.get("/t", (req, res) -> res
                .header("Trailer", "x-checksum")
                .trailerHeaders(t -> t.set("x-checksum", "abc123"))
                .sendString(Flux.just("part1", "part2"))));
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(
                route(app.url()), "GET", "/t", List.of(new Header("Host", "demo.localhost")), null);

        forwarder.forward(request, collector).block(Duration.ofSeconds(10));

        assertThat(collector.text()).isEqualTo("part1part2");
        assertThat(collector.trailers).containsExactly(new Header("x-checksum", "abc123"));
        assertThat(collector.headers).extracting(Header::name).doesNotContain("Trailer", "trailer");
    }

    @Test
    void sequentialRequestsReusePooledConnectionsToTheApp() throws InterruptedException {
        java.util.Set<Integer> clientPorts = java.util.concurrent.ConcurrentHashMap.newKeySet();
        LocalApp app = app(r -> r.get("/pooled", (req, res) -> {
            clientPorts.add(((java.net.InetSocketAddress) req.remoteAddress()).getPort());
            return res.sendString(Mono.just("ok"));
        }));
        for (int i = 0; i < 10; i++) {
            Collector collector = new Collector();
            forwarder.forward(new LocalRequest(route(app.url()), "GET", "/pooled",
                    List.of(new Header("Host", "demo.localhost")), null), collector).block(Duration.ofSeconds(5));
            assertThat(collector.status).isCompletedWithValue(200);
            assertThat(collector.text()).isEqualTo("ok");
            // the connection goes back to the pool on its event loop just after the exchange completes
            Thread.sleep(100);
        }
        // without a pool every request would open its own connection: 10
        assertThat(clientPorts).as("local connections the app saw for 10 sequential requests").hasSizeLessThanOrEqualTo(2);
        assertThat(forwarder.eventLoopPools()).as("requests started off an event loop use the shared pool").isZero();
    }

    @Test
    void anExchangeStartedOnAnEventLoopRunsItsLocalConnectionOnThatLoop() throws Exception {
        LocalApp app = app(r -> r.get("/loop", (req, res) -> res.sendString(Mono.just("same thread"))));
        Collector offLoop = new Collector();
        forwarder.forward(new LocalRequest(route(app.url()), "GET", "/loop",
                List.of(new Header("Host", "demo.localhost")), null), offLoop).block(Duration.ofSeconds(5));
        assertThat(offLoop.text()).isEqualTo("same thread");
        assertThat(forwarder.eventLoopPools()).as("an exchange started off a loop uses the shared pool").isZero();

        // one of the loops the agent's tunnels run on (Reactor Netty's shared client loops)
        io.netty.channel.EventLoop loop = reactor.netty.http.HttpResources.get().onClient(true).next();
        for (int i = 0; i < 3; i++) {
            CompletableFuture<Thread> started = new CompletableFuture<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            Collector collector = new Collector();
            loop.execute(() -> {
                started.complete(Thread.currentThread());
                forwarder.forward(new LocalRequest(route(app.url()), "GET", "/loop",
                                List.of(new Header("Host", "demo.localhost")), null), collector)
                        .subscribe(null, done::completeExceptionally, () -> done.complete(null));
            });
            done.get(5, TimeUnit.SECONDS);
            assertThat(collector.text()).isEqualTo("same thread");
            assertThat(collector.chunkThread).as("thread the response body arrived on").isSameAs(started.get());
        }
        assertThat(forwarder.eventLoopPools()).as("pools of their own, one per event loop used").isEqualTo(1);
    }

    @Test
    void tunnelsSharingEventLoopsDoNotShrinkTheLocalConnectionLimit() {
        int loops = reactor.netty.resources.LoopResources.DEFAULT_IO_WORKER_COUNT;
        for (int tunnels : new int[] {1, 2, loops, loops + 3, 16}) {
            LocalAppForwarder split = new LocalAppForwarder(
                    new AgentProperties.Local(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMillis(800), 500,
                            new AgentProperties.Websocket(org.springframework.util.unit.DataSize.ofMegabytes(16))),
                    meters, tunnels);
            try {
                int loopsInUse = Math.min(tunnels, loops);
                assertThat(split.perLoopConnections() * loopsInUse)
                        .as("%d tunnels on %d loops: the loops in use together still offer all 500", tunnels, loops)
                        .isBetween(500, 500 + loopsInUse);
            } finally {
                split.destroy();
            }
        }
    }

    @Test
    void forwardsGetWithHeadersAndHostUnchanged() {
        LocalApp app = app(r -> r.get("/hello", (req, res) -> res.header("X-Host", req.requestHeaders().get("Host"))
                .header("X-Dup", String.join("|", req.requestHeaders().getAll("X-Dup")))
                .header("Connection", "keep-alive, X-Secret-Hop")
                .header("X-Secret-Hop", "1")
                .addHeader("Set-Cookie", "a=1")
                .addHeader("Set-Cookie", "b=2")
                .sendString(Mono.just("hello " + req.uri()))));
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(
                route(app.url()),
                "GET",
                "/hello?x=1",
                List.of(new Header("Host", "demo.localhost"), new Header("X-Dup", "one"), new Header("X-Dup", "two")),
                null);

        forwarder.forward(request, collector).block(Duration.ofSeconds(5));

        assertThat(collector.status).isCompletedWithValue(200);
        assertThat(collector.text()).isEqualTo("hello /hello?x=1");
        assertThat(collector.header("X-Host")).isEqualTo("demo.localhost");
        assertThat(collector.header("X-Dup")).isEqualTo("one|two");
        assertThat(collector.headers).extracting(Header::name).doesNotContain("Connection", "X-Secret-Hop");
        assertThat(collector.headers.stream().filter(h -> h.name().equals("Set-Cookie")).map(Header::value))
                .containsExactly("a=1", "b=2");
        // recorded in doFinally, which may run just after block() returned
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(meters.find(LocalAppForwarder.METRIC)
                        .tag("route", "demo.localhost")
                        .tag("status_class", "2xx")
                        .tag("outcome", "success")
                        .timers())
                .singleElement()
                .satisfies(timer -> assertThat(timer.count()).isEqualTo(1)));
    }

    @Test
    void streamsPostBodyBothWays() throws Exception {
        LocalApp app = app(r -> r.post("/echo", (req, res) -> res.send(req.receive().retain())));
        byte[] payload = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(payload);
        Flux<ByteBuf> body = Flux.range(0, (payload.length + 65535) / 65536).map(i -> {
            int from = i * 65536;
            int to = Math.min(payload.length, from + 65536);
            return ByteBufAllocator.DEFAULT.buffer(to - from).writeBytes(payload, from, to - from);
        });
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(
                route(app.url()), "POST", "/echo", List.of(new Header("Host", "demo.localhost")), body);

        forwarder.forward(request, collector).block(Duration.ofSeconds(10));

        assertThat(collector.status).isCompletedWithValue(200);
        byte[] received;
        synchronized (collector.body) {
            received = collector.body.toByteArray();
        }
        assertThat(sha256(received)).isEqualTo(sha256(payload));
    }

    @Test
    void relaysTheFirstChunkWhileTheAppIsStillSending() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean appDone = new AtomicBoolean();
        LocalApp app = app(r -> r.get("/events", (req, res) -> res.header("Content-Type", "text/event-stream")
                .sendString(Flux.concat(
                        Mono.just("data: first\n\n"),
                        Mono.fromCallable(() -> release.await(5, TimeUnit.SECONDS))
                                .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic())
                                .map(x -> "data: second\n\n")
                                .doOnNext(x -> appDone.set(true))))));
        Collector collector = new Collector();
        LocalRequest request = new LocalRequest(route(app.url()), "GET", "/events", List.of(), null);

        Disposable exchange = forwarder.forward(request, collector).subscribe();
        await().atMost(Duration.ofSeconds(5)).until(() -> collector.text().contains("data: first"));
        assertThat(appDone).isFalse();
        release.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> collector.text().contains("data: second"));
        exchange.dispose();
    }

    @Test
    void marksContentLengthZeroAsEmptyBody() {
        LocalApp app = app(r -> r.get("/empty", (req, res) -> res.status(201).header("Content-Length", "0").send()));
        Collector collector = new Collector();

        forwarder.forward(new LocalRequest(route(app.url()), "GET", "/empty", List.of(), null), collector)
                .block(Duration.ofSeconds(5));

        assertThat(collector.status).isCompletedWithValue(201);
        assertThat(collector.emptyBody).isTrue();
    }

    @Test
    void mapsConnectionRefusedToUpstreamConnectFailed() {
        Collector collector = new Collector();
        LocalRequest request =
                new LocalRequest(route("http://127.0.0.1:" + LocalApp.freePort()), "GET", "/", List.of(), null);

        Throwable error = catchError(forwarder.forward(request, collector));

        assertThat(error).isInstanceOf(LocalExchangeException.class);
        assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_CONNECT_FAILED);
        assertThat(collector.status).isNotDone();
    }

    @Test
    void releasesTheRequestBodyWhenTheAppIsUnreachable() {
        Collector collector = new Collector();
        AtomicInteger released = new AtomicInteger();
        Flux<ByteBuf> body = Flux.range(0, 4)
                .map(i -> ByteBufAllocator.DEFAULT.buffer(8).writeLong(i))
                .doOnDiscard(ByteBuf.class, buf -> {
                    released.incrementAndGet();
                    buf.release();
                });
        LocalRequest request =
                new LocalRequest(route("http://127.0.0.1:" + LocalApp.freePort()), "POST", "/", List.of(), body);

        Throwable error = catchError(forwarder.forward(request, collector));

        assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_CONNECT_FAILED);
    }

    @Test
    void mapsNoHeadersInTimeToUpstreamTimeoutAndClosesTheLocalConnection() {
        AtomicBoolean appConnectionClosed = new AtomicBoolean();
        LocalApp app = app(r -> r.get("/slow", (req, res) -> {
            req.withConnection(c -> c.onDispose(() -> appConnectionClosed.set(true)));
            return Mono.never();
        }));
        Collector collector = new Collector();

        Throwable error = catchError(
                strict.forward(new LocalRequest(route(app.url()), "GET", "/slow", List.of(), null), collector));

        assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_TIMEOUT);
        await().atMost(Duration.ofSeconds(5)).untilTrue(appConnectionClosed);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                meters.find(LocalAppForwarder.METRIC).tag("outcome", "timeout").timers())
                .singleElement()
                .satisfies(timer -> assertThat(timer.count()).isEqualTo(1)));
    }

    @Test
    void aResponseThatGoesIdleAfterItsHeadersEndsWithUpstreamTimeoutAndClosesTheLocalConnection() {
        AtomicBoolean appConnectionClosed = new AtomicBoolean();
        LocalApp app = app(r -> r.get("/stalls", (req, res) -> {
            req.withConnection(c -> c.onDispose(() -> appConnectionClosed.set(true)));
            return res.sendString(Flux.just("first chunk\n").concatWith(Flux.never()));
        }));
        Collector collector = new Collector();

        Throwable error = catchError(
                strict.forward(new LocalRequest(route(app.url()), "GET", "/stalls", List.of(), null), collector));

        assertThat(collector.status).isCompletedWithValue(200);
        assertThat(collector.text()).isEqualTo("first chunk\n");
        assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_TIMEOUT);
        assertThat(error).hasMessageContaining("no body bytes either way for PT0.8S");
        await().atMost(Duration.ofSeconds(5)).untilTrue(appConnectionClosed);
    }

    @Test
    void aStreamWhoseBytesKeepMovingOutlivesBothTheIdleAndTheResponseTimeout() {
        // 9 chunks 300 ms apart: 2.7 s in all, longer than the 2 s header timeout and the 0.8 s idle timeout
        LocalApp app = app(r -> r.get("/events", (req, res) -> res.sendString(
                Flux.interval(Duration.ofMillis(300)).take(9).map(i -> "event " + i + "\n"))));
        Collector collector = new Collector();

        strict.forward(new LocalRequest(route(app.url()), "GET", "/events", List.of(), null), collector)
                .block(Duration.ofSeconds(10));

        assertThat(collector.text()).startsWith("event 0\n").endsWith("event 8\n");
    }

    @Test
    void aRouteIdleTimeoutOverridesTheAgentDefault() {
        LocalApp app = app(r -> r.get("/pause", (req, res) -> res.sendString(
                Flux.just("before\n").concatWith(Mono.delay(Duration.ofMillis(1500)).thenReturn("after\n")))));
        Route patient = new Route("demo.localhost", "/", URI.create(app.url()), false, "", -1, null,
                Duration.ofSeconds(5), java.util.Map.of(), List.of(), java.util.Map.of(), List.of(),
                io.edgetunnel.agent.config.HealthCheck.NONE, io.edgetunnel.agent.config.LocalProtocol.HTTP1);
        Collector collector = new Collector();

        strict.forward(new LocalRequest(patient, "GET", "/pause", List.of(), null), collector)
                .block(Duration.ofSeconds(10));

        assertThat(collector.text()).isEqualTo("before\nafter\n");
    }

    @Test
    void cancellingClosesTheLocalRequest() {
        AtomicBoolean appConnectionClosed = new AtomicBoolean();
        LocalApp app = app(r -> r.get("/forever", (req, res) -> {
            req.withConnection(c -> c.onDispose(() -> appConnectionClosed.set(true)));
            return res.sendString(Flux.interval(Duration.ofMillis(10)).onBackpressureDrop().map(i -> "tick " + i + "\n"));
        }));
        Collector collector = new Collector();

        Disposable exchange = forwarder.forward(
                        new LocalRequest(route(app.url()), "GET", "/forever", List.of(), null), collector)
                .subscribe();
        await().atMost(Duration.ofSeconds(5)).until(() -> collector.chunks.get() > 3);
        exchange.dispose();

        await().atMost(Duration.ofSeconds(5)).untilTrue(appConnectionClosed);
    }

    @Test
    void mapsAFailureAfterHeadersToUpstreamError() {
        DisposableServer raw = TcpServer.create()
                .host("127.0.0.1")
                .port(0)
                .handle((in, out) -> out.sendString(Mono.just("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial"))
                        .then()
                        .then(Mono.delay(Duration.ofMillis(100)))
                        .then())
                .bindNow();
        try {
            Collector collector = new Collector();

            Throwable error = catchError(forwarder.forward(
                    new LocalRequest(route("http://127.0.0.1:" + raw.port()), "GET", "/broken", List.of(), null),
                    collector));

            assertThat(collector.status).isCompletedWithValue(200);
            assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_ERROR);
        } finally {
            raw.disposeNow();
        }
    }

    @Test
    void buildsUrlsFromBaseAndTarget() {
        assertThat(LocalAppForwarder.url(URI.create("http://127.0.0.1:3000"), "/a?b=c")).isEqualTo("http://127.0.0.1:3000/a?b=c");
        assertThat(LocalAppForwarder.url(URI.create("http://127.0.0.1:3000/base/"), "/a")).isEqualTo("http://127.0.0.1:3000/base/a");
    }

    private static Throwable catchError(Mono<Void> exchange) {
        AtomicReference<Throwable> error = new AtomicReference<>();
        exchange.doOnError(error::set).onErrorResume(e -> Mono.empty()).block(Duration.ofSeconds(10));
        assertThat(error.get()).as("exchange error").isNotNull();
        return error.get();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return Arrays.toString(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
