import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.ConnectionProvider;

/**
 * The {@code jvm} target of bench/run.sh: a bare one-hop reverse proxy built from the stack our
 * tunnel runs on (Reactor Netty HttpServer in front of a pooled Reactor Netty HttpClient), in one
 * JVM, with no tunnel, no Spring, no WebFlux, no access log and no metrics. The tunnel makes two
 * such hops (ingress JVM, agent JVM) plus framing, so this is what one hop of the stack costs on the
 * same machine, next to nginx doing the same job.
 *
 * <pre>
 * java -cp "$BENCH_CP" bench/JvmHop.java --port P --upstream http://127.0.0.1:U [--host 127.0.0.1]
 *      [--max-connections 500]
 * </pre>
 *
 * Bodies stream both ways (no aggregation); end-to-end headers are forwarded as they came (Host
 * included, as the nginx hop does), hop-by-hop ones dropped; upstream connections are pooled and
 * kept alive like the agent's pool to its local apps ({@code agent.local.max-connections} 500).
 */
public class JvmHop {

    /** RFC 9110 section 7.6.1, plus the fields that only mean something between two peers. */
    private static final Set<String> HOP_BY_HOP = Set.of(
            "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
            "te", "trailer", "transfer-encoding", "upgrade",
            // this hop answers 100-continue itself (when the body is read), the upstream must not wait
            "expect");

    public static void main(String[] args) {
        Map<String, String> opts = parse(args);
        int port = Integer.parseInt(require(opts, "port"));
        String upstream = require(opts, "upstream");
        String host = opts.getOrDefault("host", "127.0.0.1");
        int maxConnections = Integer.parseInt(opts.getOrDefault("max-connections", "500"));

        ConnectionProvider pool = ConnectionProvider.builder("jvm-hop")
                .maxConnections(maxConnections)
                .pendingAcquireMaxCount(maxConnections * 4)
                .maxIdleTime(Duration.ofSeconds(60))
                .build();
        HttpClient client = HttpClient.create(pool)
                .baseUrl(upstream)
                .option(ChannelOption.TCP_NODELAY, true)
                .compress(false)
                .followRedirect(false)
                .keepAlive(true);
        // a streamed request body can be read once: no silent retry on a fresh connection
        HttpClient bodyClient = client.disableRetry(true);

        DisposableServer server = HttpServer.create()
                .host(host)
                .port(port)
                .handle((req, res) -> hasBody(req) ? proxy(bodyClient, req, res, true) : proxy(client, req, res, false))
                .bindNow(Duration.ofSeconds(30));
        System.out.println("jvm-hop listening on " + host + ":" + server.port() + " -> " + upstream);
        server.onDispose().block();
    }

    private static Publisher<Void> proxy(HttpClient client, HttpServerRequest req, HttpServerResponse res, boolean body) {
        return client.request(req.method())
                .uri(req.uri())
                .send((creq, out) -> {
                    HttpHeaders headers = creq.requestHeaders();
                    String defaultHost = headers.get(HttpHeaderNames.HOST);
                    // the client's headers replace Reactor Netty's defaults (user-agent, accept)
                    headers.clear();
                    copyEndToEnd(req.requestHeaders(), headers);
                    if (!headers.contains(HttpHeaderNames.HOST) && defaultHost != null) {
                        headers.set(HttpHeaderNames.HOST, defaultHost);
                    }
                    // body framing is re-derived: the client's Content-Length, else chunked
                    if (body && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                        headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                    }
                    return body ? out.send(req.receive().retain()) : out;
                })
                .response((cres, cbody) -> {
                    res.status(cres.status());
                    copyEndToEnd(cres.responseHeaders(), res.responseHeaders());
                    return res.send(cbody.retain());
                })
                .then()
                .onErrorResume(e -> res.hasSentHeaders()
                        ? Mono.error(e) // mid-body: the client sees the connection close
                        : res.status(HttpResponseStatus.BAD_GATEWAY)
                                .header(HttpHeaderNames.CONTENT_LENGTH, "0")
                                .send()
                                .then());
    }

    private static boolean hasBody(HttpServerRequest req) {
        HttpHeaders h = req.requestHeaders();
        return h.contains(HttpHeaderNames.TRANSFER_ENCODING)
                || h.getInt(HttpHeaderNames.CONTENT_LENGTH, 0) > 0;
    }

    /** Copies {@code from} into {@code to} minus hop-by-hop fields and those the Connection field names. */
    private static void copyEndToEnd(HttpHeaders from, HttpHeaders to) {
        Set<String> named = null;
        String connection = from.get(HttpHeaderNames.CONNECTION);
        if (connection != null) {
            named = new HashSet<>();
            for (String token : connection.split(",")) {
                named.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        for (Map.Entry<String, String> e : from) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && (named == null || !named.contains(name))) {
                to.add(e.getKey(), e.getValue());
            }
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
            int eq = a.indexOf('=');
            if (eq > 0) {
                opts.put(a.substring(2, eq), a.substring(eq + 1));
            } else if (i + 1 < args.length) {
                opts.put(a.substring(2), args[++i]);
            } else {
                throw new IllegalArgumentException("missing value for " + a);
            }
        }
        return opts;
    }

    private static String require(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }
}
