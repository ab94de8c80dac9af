package io.edgetunnel.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The local app {@code run-local.sh} puts behind the tunnel, so a newcomer can see each feature by
 * hand: a page that echoes what the app received (Host, X-Forwarded-*), a body echo, server-sent
 * events, a WebSocket echo and a large streamed download.
 */
public final class DemoApp {

    private static final int CHUNK = 64 * 1024;
    private static final ByteBuf CHUNK_BYTES = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(CHUNK).writeBytes(new byte[CHUNK]).asReadOnly());

    private DemoApp() {}

    public static void main(String[] args) {
        int port = Integer.parseInt(System.getenv().getOrDefault("DEMO_PORT", args.length > 0 ? args[0] : "3000"));
        DisposableServer server = start("127.0.0.1", port);
        System.out.println("demo-app listening on http://127.0.0.1:" + server.port());
        server.onDispose().block();
    }

    public static DisposableServer start(String host, int port) {
        return HttpServer.create()
                .host(host)
                .port(port)
                .route(routes -> routes.get("/", DemoApp::page)
                        .post("/echo", (req, res) -> res.header("Content-Type",
                                        req.requestHeaders().get("Content-Type", "application/octet-stream"))
                                .send(req.receive().retain()))
                        .get("/events", DemoApp::events)
                        .get("/download", DemoApp::download)
                        .ws("/ws", (in, out) -> out.sendObject(in.aggregateFrames(16 * 1024 * 1024)
                                .receiveFrames()
                                .map(frame -> frame.retain()))))
                .bindNow();
    }

    private static Mono<Void> page(HttpServerRequest req, HttpServerResponse res) {
        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><title>edge-tunnel demo</title></head><body>\n")
                .append("<h1>Hello from the demo app behind the tunnel</h1>\n")
                .append("<p>Served at ").append(Instant.now()).append("</p>\n<pre>\n")
                .append(req.method()).append(' ').append(escape(req.uri())).append('\n');
        req.requestHeaders().forEach(h -> html.append(escape(h.getKey())).append(": ")
                .append(escape(h.getValue())).append('\n'));
        html.append("</pre>\n<ul>\n<li><code>curl -d hello http://demo.localhost:8080/echo</code></li>\n")
                .append("<li><code>curl -N http://demo.localhost:8080/events</code></li>\n")
                .append("<li><code>curl -o /dev/null http://demo.localhost:8080/download?mib=1024</code></li>\n")
                .append("<li>WebSocket echo at <code>ws://demo.localhost:8080/ws</code></li>\n</ul></body></html>\n");
        return res.header("Content-Type", "text/html; charset=utf-8").sendString(Mono.just(html.toString())).then();
    }

    /** One event a second for ten seconds (or {@code ?count=}). */
    private static Mono<Void> events(HttpServerRequest req, HttpServerResponse res) {
        int count = intParam(req, "count", 10);
        long intervalMillis = intParam(req, "intervalMillis", 1000);
        Flux<String> events = Flux.interval(Duration.ZERO, Duration.ofMillis(intervalMillis))
                .take(count)
                .map(i -> "id: " + i + "\ndata: event " + i + " at " + Instant.now() + "\n\n");
        return res.header("Content-Type", "text/event-stream")
                .header("Cache-Control", "no-cache")
                .sendString(events)
                .then();
    }

    /** {@code ?mib=N} mebibytes of zeros, streamed in 64 KiB chunks (default 100). */
    private static Mono<Void> download(HttpServerRequest req, HttpServerResponse res) {
        long mib = intParam(req, "mib", 100);
        long chunks = mib * (1024 * 1024 / CHUNK);
        return res.header("Content-Type", "application/octet-stream")
                .header("Content-Length", Long.toString(mib * 1024 * 1024))
                .send(Flux.range(0, (int) chunks).map(i -> CHUNK_BYTES.duplicate()))
                .then();
    }

    private static int intParam(HttpServerRequest req, String name, int fallback) {
        String uri = req.uri();
        int q = uri.indexOf('?');
        if (q < 0) {
            return fallback;
        }
        for (String pair : uri.substring(q + 1).split("&")) {
            if (pair.startsWith(name + "=")) {
                try {
                    return Integer.parseInt(pair.substring(name.length() + 1));
                } catch (NumberFormatException e) {
                    return fallback;
                }
            }
        }
        return fallback;
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
