package io.edgetunnel.e2e.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The real local app behind the agents: a Reactor Netty server on a random loopback port with
 * endpoints that make each tunnel behaviour observable (checksums, cancellation, slowness).
 */
public final class UpstreamApp implements AutoCloseable {

    private final String name;
    private final DisposableServer server;
    /** Local requests whose exchange was cancelled or whose connection closed before completion. */
    public final AtomicInteger cancelled = new AtomicInteger();
    public final AtomicInteger requests = new AtomicInteger();
    /** Status of {@code GET /health}; health checks are not counted in {@link #requests}. */
    public final AtomicInteger healthStatus = new AtomicInteger(200);
    public final AtomicInteger healthChecks = new AtomicInteger();
    /** Bytes of the slow download the app has handed to its connection so far. */
    public final AtomicLong downloadBytesProduced = new AtomicLong();

    public UpstreamApp(String name) {
        this.name = name;
        this.server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                // header blocks as large as the ingress passes on (its public limit is 16 KB)
                .httpRequestDecoder(decoder -> decoder.maxHeaderSize(64 * 1024))
                .route(routes -> routes.get("/name", (req, res) -> count(res).sendString(Mono.just(name)).then())
                        .get("/bytes", this::bytes)
                        .post("/sha256", this::sha256)
                        .post("/echo", (req, res) -> count(res).send(req.receive().retain()).then())
                        .get("/headers", this::headers)
                        .get("/slow", this::slow)
                        .get("/sse", this::sse)
                        .get("/stall", this::stall)
                        .get("/download", this::download)
                        .get("/trailers", this::trailers)
                        .get("/health", (req, res) -> {
                            healthChecks.incrementAndGet();
                            return res.status(healthStatus.get()).sendString(Mono.just(name)).then();
                        }))
                .bindNow();
    }

    public int port() {
        return server.port();
    }

    public String url() {
        return "http://127.0.0.1:" + server.port();
    }

    public String name() {
        return name;
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }

    private HttpServerResponse count(HttpServerResponse res) {
        requests.incrementAndGet();
        return res;
    }

    /** {@code ?size=N[&chunked=true]}: N deterministic bytes (see {@link Payloads}). */
    private Mono<Void> bytes(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        long size = Long.parseLong(Query.param(req.uri(), "size", "0"));
        boolean chunked = Boolean.parseBoolean(Query.param(req.uri(), "chunked", "false"));
        if (!chunked) {
            res.header("Content-Length", Long.toString(size));
        }
        return res.header("Content-Type", "application/octet-stream").send(Payloads.stream(size, 16 * 1024)).then();
    }

    /** Answers {@code <length> <sha256 hex>} of the request body. */
    private Mono<Void> sha256(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        MessageDigest digest = sha256();
        AtomicLong length = new AtomicLong();
        return res.sendString(req.receive()
                        .map(buf -> {
                            length.addAndGet(buf.readableBytes());
                            digest.update(buf.nioBuffer());
                            return buf.readableBytes();
                        })
                        .then(Mono.fromSupplier(() -> length.get() + " " + HexFormat.of().formatHex(digest.digest()))))
                .then();
    }

    /** Every request header as {@code name: value} lines, in the order received. */
    private Mono<Void> headers(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        StringBuilder out = new StringBuilder();
        req.requestHeaders().forEach(h -> out.append(h.getKey()).append(": ").append(h.getValue()).append('\n'));
        return res.header("Content-Type", "text/plain").sendString(Mono.just(out.toString())).then();
    }

    /** Waits {@code ?delayMillis=} before answering; counts cancellations. */
    private Mono<Void> slow(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        long delay = Long.parseLong(Query.param(req.uri(), "delayMillis", "60000"));
        res.withConnection(c -> c.onDispose(() -> {
            if (!res.hasSentHeaders()) {
                cancelled.incrementAndGet();
            }
        }));
        return Mono.delay(Duration.ofMillis(delay)).then(res.sendString(Mono.just("finally")).then());
    }

    /** {@code ?count=&intervalMillis=} server-sent events. */
    private Mono<Void> sse(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        int count = Integer.parseInt(Query.param(req.uri(), "count", "5"));
        long interval = Long.parseLong(Query.param(req.uri(), "intervalMillis", "200"));
        Flux<String> events = Flux.interval(Duration.ZERO, Duration.ofMillis(interval))
                .take(count)
                .map(i -> "data: event-" + i + "\n\n");
        return res.header("Content-Type", "text/event-stream").sendString(events).then();
    }

    /** Headers and one line, then silence; counts the connection being closed on it. */
    private Mono<Void> stall(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        res.withConnection(c -> c.onDispose(cancelled::incrementAndGet));
        return res.header("Content-Type", "text/plain")
                .sendString(Flux.just("first line\n").concatWith(Flux.never()))
                .then();
    }

    /** {@code ?mib=} of zeros in 64 KiB chunks; counts a cancellation when the client leaves early. */
    private Mono<Void> download(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        long mib = Long.parseLong(Query.param(req.uri(), "mib", "512"));
        long chunks = mib * 16;
        ByteBuf chunk = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[64 * 1024]));
        return res.header("Content-Length", Long.toString(mib * 1024 * 1024))
                .send(Flux.range(0, (int) chunks)
                        .map(i -> chunk.duplicate())
                        .doOnNext(b -> downloadBytesProduced.addAndGet(b.readableBytes()))
                        .doOnCancel(cancelled::incrementAndGet))
                .then();
    }

    /** A chunked body ({@code ?parts=N}, 0 for none) followed by trailers {@code x-checksum} and {@code x-parts}. */
    private Mono<Void> trailers(HttpServerRequest req, HttpServerResponse res) {
        count(res);
        int parts = Integer.parseInt(Query.param(req.uri(), "parts", "2"));
        return res.header("Trailer", "x-checksum, x-parts")
                .trailerHeaders(t -> t.set("x-checksum", "sum-" + parts).set("x-parts", Integer.toString(parts)))
                .sendString(Flux.range(0, parts).map(i -> "part-" + i + "\n"))
                .then();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
