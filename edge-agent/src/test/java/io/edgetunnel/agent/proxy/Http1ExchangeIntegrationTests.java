package io.edgetunnel.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpResources;

/**
 * The plain HTTP/1.1 path of body-less requests ({@link Http1Exchange}, {@link Http1Pool}) against
 * apps that behave as real ones do at the edges: a kept-alive connection closed as a request is sent,
 * interim responses, {@code Connection: close}, HEAD, oversized headers, a slow reader, a busy pool.
 * The apps are raw sockets, so every byte they send and every connection they see is the test's.
 */
class Http1ExchangeIntegrationTests {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<RawApp> apps = new CopyOnWriteArrayList<>();
    private LocalAppForwarder forwarder = forwarder(50);

    private LocalAppForwarder forwarder(int maxConnections) {
        return forwarder(maxConnections, Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    private LocalAppForwarder forwarder(int maxConnections, Duration responseTimeout, Duration idleTimeout) {
        return new LocalAppForwarder(new AgentProperties.Local(Duration.ofSeconds(5), responseTimeout,
                idleTimeout, maxConnections,
                new AgentProperties.Websocket(org.springframework.util.unit.DataSize.ofMegabytes(16))), meters);
    }

    @AfterEach
    void tearDown() {
        forwarder.destroy();
        apps.forEach(RawApp::close);
    }

    /** One connection's conversation: the connection's number (from 1) and its streams. */
    @FunctionalInterface
    interface Conversation {
        void run(int connection, InputStream in, OutputStream out) throws IOException, InterruptedException;
    }

    /** A loopback server that hands each accepted socket to a conversation on its own thread. */
    static final class RawApp implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger mostOpen = new AtomicInteger();
        final ExecutorService threads = Executors.newCachedThreadPool();

        RawApp(Conversation conversation) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket socket = server.accept();
                        int number = connections.incrementAndGet();
                        mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                        threads.execute(() -> {
                            try (socket) {
                                conversation.run(number, socket.getInputStream(), socket.getOutputStream());
                            } catch (IOException | InterruptedException e) {
                                // the agent closed its end: the conversation is over
                            } finally {
                                open.decrementAndGet();
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException e) {
                // closing
            }
            threads.shutdownNow();
        }
    }

    private RawApp app(Conversation conversation) throws IOException {
        RawApp app = new RawApp(conversation);
        apps.add(app);
        return app;
    }

    /** Reads one request head; null when the agent closed the connection instead. */
    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : 0;
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static Route route(String url) {
        return new Route("demo.localhost", "/", URI.create(url));
    }

    private LocalAppForwarderIntegrationTests.Collector get(String url, String method, String path) {
        LocalAppForwarderIntegrationTests.Collector collector = new LocalAppForwarderIntegrationTests.Collector();
        forwarder.forward(new LocalRequest(route(url), method, path, List.of(new Header("Host", "demo.localhost")),
                null), collector).block(Duration.ofSeconds(10));
        return collector;
    }

    /** An app that answers every request on a connection with "ok", {@code delayMillis} after it came. */
    private RawApp slowOkApp(long delayMillis) throws IOException {
        return app((connection, in, out) -> {
            while (readHead(in) != null) {
                Thread.sleep(delayMillis);
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
    }

    /** The bodies of {@code count} GETs sent at once, request {@code i} to the route of {@code baseUrl(i)}. */
    private List<String> concurrentBodies(int count, java.util.function.IntFunction<String> baseUrl) {
        return Flux.range(0, count)
                .flatMap(i -> {
                    LocalAppForwarderIntegrationTests.Collector collector = new LocalAppForwarderIntegrationTests.Collector();
                    return forwarder.forward(new LocalRequest(route(baseUrl.apply(i)), "GET", "/" + i, List.of(), null),
                                    collector)
                            .then(Mono.fromSupplier(collector::text));
                })
                .collectList()
                .block(Duration.ofSeconds(20));
    }

    private Throwable failure(String url, String path) {
        return failure(url, "GET", path);
    }

    private Throwable failure(String url, String method, String path) {
        AtomicReference<Throwable> error = new AtomicReference<>();
        forwarder.forward(new LocalRequest(route(url), method, path, List.of(), null),
                        new LocalAppForwarderIntegrationTests.Collector())
                .doOnError(error::set).onErrorResume(e -> Mono.empty()).block(Duration.ofSeconds(10));
        assertThat(error.get()).as("exchange error").isNotNull();
        return error.get();
    }

    @Test
    void aKeptAliveConnectionTheAppClosesAsTheNextRequestArrivesIsReplacedOnce() throws Exception {
        // each connection answers its first request and closes on the second, unanswered: the race of an
        // app's keep-alive timeout against the agent reusing the connection
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
            readHead(in);
        });

        assertThat(get(app.url(), "GET", "/a").text()).isEqualTo("first");
        LocalAppForwarderIntegrationTests.Collector second = get(app.url(), "GET", "/b");

        assertThat(second.status).isCompletedWithValue(200);
        assertThat(second.text()).isEqualTo("first");
        assertThat(app.connections).as("the closed connection, then a fresh one").hasValue(2);
    }

    @Test
    void anAppThatClosesEveryConnectionUnansweredFailsTheRequestAfterOneRetry() throws Exception {
        RawApp app = app((connection, in, out) -> {
            if (connection == 1) {
                readHead(in);
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
            readHead(in);
        });
        assertThat(get(app.url(), "GET", "/warm").text()).isEqualTo("ok");

        Throwable error = failure(app.url(), "/never");

        assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_ERROR);
        assertThat(error).hasMessageContaining("closed the connection before responding");
        assertThat(app.connections).as("the kept-alive connection and one replacement, no more").hasValue(2);
    }

    @Test
    void interimResponsesArePassedOverForTheFinalOne() throws Exception {
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                    + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nfinal");
            readHead(in);
        });

        LocalAppForwarderIntegrationTests.Collector collector = get(app.url(), "GET", "/hints");

        assertThat(collector.status).isCompletedWithValue(200);
        assertThat(collector.header("X-Final")).isEqualTo("yes");
        assertThat(collector.text()).isEqualTo("final");
    }

    @Test
    void aHeadResponseHasNoBodyAndItsConnectionServesTheNextRequest() throws Exception {
        AtomicReference<String> secondHead = new AtomicReference<>();
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            secondHead.set(readHead(in));
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
            readHead(in);
        });

        LocalAppForwarderIntegrationTests.Collector head = get(app.url(), "HEAD", "/file");
        LocalAppForwarderIntegrationTests.Collector next = get(app.url(), "GET", "/file");

        assertThat(head.emptyBody).isTrue();
        assertThat(head.header("Content-Length")).isEqualTo("1000");
        assertThat(head.text()).isEmpty();
        assertThat(next.text()).isEqualTo("next");
        assertThat(secondHead.get()).startsWith("GET /file HTTP/1.1\r\n");
        assertThat(app.connections).hasValue(1);
    }

    @Test
    void aResponseThatClosesItsConnectionIsReadToTheCloseAndTheConnectionNotReused() throws Exception {
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            // no length, no chunks: the body ends with the connection
            write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
        });

        assertThat(get(app.url(), "GET", "/1").text()).isEqualTo("until the end");
        assertThat(get(app.url(), "GET", "/2").text()).isEqualTo("until the end");
        assertThat(app.connections).hasValue(2);
    }

    @Test
    void responseHeadersOverTheLimitFailBeforeAnythingIsRelayed() throws Exception {
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 200 OK\r\nX-Huge: " + "h".repeat(20_000) + "\r\nContent-Length: 2\r\n\r\nok");
            readHead(in);
        });

        Throwable error = failure(app.url(), "/huge");

        assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_ERROR);
        assertThat(error).hasMessageContaining("failed before responding");
    }

    @Test
    void theBodyIsHandedOnOnlyAsFastAsItIsAskedFor() throws Exception {
        byte[] chunk = "x".repeat(8192).getBytes(StandardCharsets.ISO_8859_1);
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + 256 * chunk.length + "\r\n\r\n");
            for (int i = 0; i < 256; i++) {
                out.write(chunk);
            }
            out.flush();
            readHead(in);
        });
        AtomicLong requested = new AtomicLong();
        AtomicLong received = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        AtomicReference<Subscription> subscription = new AtomicReference<>();
        CompletableFuture<Void> bodyDone = new CompletableFuture<>();
        ResponseRelay oneAtATime = (status, headers, empty, body, trailers) -> Mono.create(done -> body.subscribe(
                new BaseSubscriber<ByteBuf>() {
                    @Override
                    protected void hookOnSubscribe(Subscription s) {
                        subscription.set(s);
                        requested.incrementAndGet();
                        s.request(1);
                    }

                    @Override
                    protected void hookOnNext(ByteBuf buf) {
                        received.incrementAndGet();
                        bytes.addAndGet(buf.readableBytes());
                        buf.release();
                    }

                    @Override
                    protected void hookOnComplete() {
                        bodyDone.complete(null);
                        done.success();
                    }

                    @Override
                    protected void hookOnError(Throwable e) {
                        done.error(e);
                    }
                }));

        Mono<Void> exchange = forwarder.forward(new LocalRequest(route(app.url()), "GET", "/big", List.of(), null),
                oneAtATime);
        CompletableFuture<Void> finished = exchange.toFuture();
        await().atMost(Duration.ofSeconds(5)).until(() -> received.get() == 1);
        for (int i = 0; i < 5; i++) {
            await().atMost(Duration.ofSeconds(5)).until(() -> received.get() == requested.get());
            // the app wrote 2 MiB: none of it may be handed on without a request for it
            Thread.sleep(100);
            assertThat(received.get()).as("chunks delivered, %d requested", requested.get()).isEqualTo(requested.get());
            requested.incrementAndGet();
            subscription.get().request(1);
        }
        requested.set(Long.MAX_VALUE);
        subscription.get().request(Long.MAX_VALUE);
        finished.get(10, TimeUnit.SECONDS);

        assertThat(bodyDone).isDone();
        assertThat(bytes.get()).isEqualTo(256L * chunk.length);
    }

    @Test
    void requestsBeyondThePoolsConnectionsWaitForOneInsteadOfOpeningMore() throws Exception {
        forwarder.destroy();
        forwarder = forwarder(2);
        RawApp app = slowOkApp(200);

        List<String> bodies = concurrentBodies(6, i -> app.url());

        assertThat(bodies).containsExactly("ok", "ok", "ok", "ok", "ok", "ok");
        assertThat(app.mostOpen.get()).as("connections open at once").isLessThanOrEqualTo(2);
    }

    @Test
    void idleConnectionsAreClosedOnceIdleForTheMaximum() throws Exception {
        RawApp app = app((connection, in, out) -> {
            while (readHead(in) != null) {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        EventLoop loop = HttpResources.get().onClient(true).next();
        Http1Pool pool = new Http1Pool(loop, new InetSocketAddress("127.0.0.1", app.server.getLocalPort()), 4,
                Duration.ofSeconds(2), Duration.ofMillis(300));
        CompletableFuture<Http1Connection> acquired = new CompletableFuture<>();
        loop.execute(() -> pool.acquire(new Http1Pool.Waiter() {
            @Override
            public void acquired(Http1Connection connection) {
                acquired.complete(connection);
            }

            @Override
            public void failed(Throwable cause) {
                acquired.completeExceptionally(cause);
            }
        }));
        Http1Connection connection = acquired.get(5, TimeUnit.SECONDS);
        loop.execute(() -> pool.release(connection, true));
        await().atMost(Duration.ofSeconds(2)).until(() -> app.open.get() == 1);

        await().atMost(Duration.ofSeconds(5)).until(() -> app.open.get() == 0);
        assertThat(connection.channel().isActive()).isFalse();
        loop.submit(pool::close).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aRequestThatIsNotIdempotentIsNotSentTwiceWhenItsKeptAliveConnectionCloses() throws Exception {
        AtomicReference<String> postHead = new AtomicReference<>();
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            postHead.set(readHead(in));
        });
        assertThat(get(app.url(), "GET", "/warm").text()).isEqualTo("ok");

        Throwable error = failure(app.url(), "POST", "/jobs/42/run");

        assertThat(((LocalExchangeException) error).resetCode()).isEqualTo(ResetCode.UPSTREAM_ERROR);
        assertThat(error).hasMessageContaining("closed the connection before responding");
        assertThat(app.connections).as("no second connection for the POST").hasValue(1);
        assertThat(postHead.get()).startsWith("POST /jobs/42/run HTTP/1.1\r\n")
                .as("an empty body framed, as Reactor Netty frames one").containsIgnoringCase("content-length: 0\r\n");
    }

    @Test
    void exchangesThatTimedOutWaitingForAConnectionLeaveTheQueue() throws Exception {
        forwarder.destroy();
        forwarder = forwarder(1, Duration.ofMillis(500), Duration.ofSeconds(10));
        // the one connection streams a long response; other requests can only wait for it
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 100; i++) {
                write(out, "5\r\ntick\n\r\n");
                Thread.sleep(100);
            }
            write(out, "0\r\n\r\n");
        });
        LocalAppForwarderIntegrationTests.Collector streaming = new LocalAppForwarderIntegrationTests.Collector();
        reactor.core.Disposable holder = forwarder.forward(
                new LocalRequest(route(app.url()), "GET", "/stream", List.of(), null), streaming).subscribe();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> streaming.chunks.get() > 0);
            // four wait (the queue's limit: 4 per connection) and give up at the 500 ms response timeout
            List<Throwable> errors = Flux.range(0, 4)
                    .flatMap(i -> forwarder.forward(new LocalRequest(route(app.url()), "GET", "/" + i, List.of(), null),
                                    new LocalAppForwarderIntegrationTests.Collector())
                            .then(Mono.<Throwable>empty())
                            .onErrorResume(e -> Mono.just(e)))
                    .collectList()
                    .block(Duration.ofSeconds(10));
            assertThat(errors).hasSize(4).allSatisfy(e ->
                    assertThat(((LocalExchangeException) e).resetCode()).isEqualTo(ResetCode.UPSTREAM_TIMEOUT));

            // had they kept their places, this one would be refused at once: "pool full"
            Throwable next = failure(app.url(), "/next");

            assertThat(((LocalExchangeException) next).resetCode()).isEqualTo(ResetCode.UPSTREAM_TIMEOUT);
            assertThat(app.connections).as("the streaming response still holds the only connection").hasValue(1);
        } finally {
            holder.dispose();
        }
    }

    @Test
    void routesToTheSameAppShareItsConnections() throws Exception {
        forwarder.destroy();
        forwarder = forwarder(1);
        RawApp app = slowOkApp(100);

        List<String> bodies = concurrentBodies(4, i -> app.url() + (i % 2 == 0 ? "/api" : "/admin"));

        assertThat(bodies).containsExactly("ok", "ok", "ok", "ok");
        assertThat(app.mostOpen.get()).as("connections open at once to the one app").isEqualTo(1);
    }

    @Test
    void aBodyReadInFullButNotTakenByAStalledRelayStillEndsAtTheIdleTimeout() throws Exception {
        forwarder.destroy();
        forwarder = forwarder(4, Duration.ofSeconds(5), Duration.ofMillis(800));
        RawApp app = app((connection, in, out) -> {
            readHead(in);
            write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n");
            readHead(in);
        });
        AtomicInteger taken = new AtomicInteger();
        // the client behind the tunnel stopped reading: the relay takes one chunk and asks for no more
        ResponseRelay stalled = (status, headers, empty, body, trailers) -> Mono.create(done -> body.subscribe(
                new BaseSubscriber<ByteBuf>() {
                    @Override
                    protected void hookOnSubscribe(Subscription s) {
                        s.request(1);
                    }

                    @Override
                    protected void hookOnNext(ByteBuf buf) {
                        taken.incrementAndGet();
                        buf.release();
                    }
                }));
        AtomicReference<Throwable> error = new AtomicReference<>();

        forwarder.forward(new LocalRequest(route(app.url()), "GET", "/stalls", List.of(), null), stalled)
                .doOnError(error::set).onErrorResume(e -> Mono.empty()).block(Duration.ofSeconds(10));

        assertThat(taken).hasValue(1);
        assertThat(((LocalExchangeException) error.get()).resetCode()).isEqualTo(ResetCode.UPSTREAM_TIMEOUT);
        assertThat(error.get()).hasMessageContaining("no body bytes either way for PT0.8S");
    }
}
