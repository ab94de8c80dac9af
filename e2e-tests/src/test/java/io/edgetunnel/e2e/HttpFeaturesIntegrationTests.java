package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * Issue 4 features through a real ingress, real agents and real local apps: path routes with
 * longest-prefix matching and prefix stripping, per-route settings, real client IP, and SSE that
 * outlives the response-header timeout.
 */
@ExtendWith(NoLeaks.class)
class HttpFeaturesIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static UpstreamApp appA;
    private static UpstreamApp appB;
    /** Loopback untrusted (default), 30 s response timeout. */
    private static IngressNode ingress;
    private static AgentNode agent;
    /** Loopback trusted, 1 s response timeout. */
    private static IngressNode trustingIngress;
    private static AgentNode trustingAgent;

    @BeforeAll
    static void start() {
        appA = new UpstreamApp("a");
        appB = new UpstreamApp("b");
        ingress = IngressNode.start("ingress.proxy.response-timeout=30s");
        Map<String, String> routes = new LinkedHashMap<>();
        routes.put("paths.example/api", appA.url());          // 0: strip-prefix
        routes.put("paths.example", appB.url());              // 1
        routes.put("paths.example/headers", appA.url());      // 2: no strip
        routes.put("*.wild.example/api", appA.url());         // 3: strip-prefix
        routes.put("*.wild.example", appB.url());             // 4
        routes.put("settings.example", appA.url());           // 5: per-route settings
        routes.put("slow.example", appA.url());               // 6: 500 ms response timeout
        routes.put("plain.example", appA.url());              // 7
        routes.put("idle.example", appB.url());               // 8: 700 ms idle timeout
        agent = AgentNode.start(ingress, "agent-features", routes,
                "agent.routes[0].strip-prefix=true",
                "agent.routes[3].strip-prefix=true",
                "agent.routes[5].host-rewrite=internal.local",
                "agent.routes[5].max-request-body-bytes=1000",
                "agent.routes[5].request-headers.x-added=yes",
                "agent.routes[5].remove-request-headers=x-drop-me",
                "agent.routes[5].response-headers.x-served-by=edge",
                "agent.routes[5].remove-response-headers=content-type",
                "agent.routes[6].response-timeout=500ms",
                "agent.routes[8].idle-timeout=700ms");
        trustingIngress = IngressNode.start(
                "ingress.proxy.response-timeout=1s",
                "ingress.proxy.trusted-proxies=127.0.0.0/8,::1/128");
        trustingAgent = AgentNode.start(trustingIngress, "agent-trusting",
                AgentNode.route("trust.example", appA.url()));
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("plain.example") == 1
                && trustingIngress.registry().tunnelCount("trust.example") == 1);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {trustingAgent, agent, trustingIngress, ingress, appA, appB}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    @Test
    void longestPrefixWinsAndStripPrefixRemovesIt() {
        // /api → app A with the prefix stripped: /api/name reaches A as /name
        assertThat(PublicClient.get(ingress, "paths.example", "/api/name").body()).isEqualTo("a");
        // everything else → app B
        assertThat(PublicClient.get(ingress, "paths.example", "/name").body()).isEqualTo("b");
        // /apix is not under /api
        assertThat(PublicClient.get(ingress, "paths.example", "/apix").status()).isEqualTo(404);
        // /headers → app A unstripped, so A answers its own /headers endpoint
        PublicClient.Reply headers = PublicClient.get(ingress, "paths.example", "/headers");
        assertThat(headers.status()).isEqualTo(200);
        assertThat(headers.body().toLowerCase(Locale.ROOT)).contains("host: paths.example");
    }

    @Test
    void wildcardHostsWithPathPrefixes() {
        assertThat(PublicClient.get(ingress, "x.wild.example", "/api/name").body()).isEqualTo("a");
        assertThat(PublicClient.get(ingress, "deep.y.wild.example", "/name").body()).isEqualTo("b");
    }

    @Test
    void hostRewriteAndRequestAndResponseHeadersAreApplied() {
        PublicClient.Reply reply = PublicClient.to(ingress, "settings.example")
                .headers(h -> h.set("X-Drop-Me", "secret").set("X-Keep", "kept").set("X-Added", "client"))
                .get().uri("/headers")
                .responseSingle(PublicClient::reply)
                .block(TIMEOUT);
        assertThat(reply.status()).isEqualTo(200);
        String seen = reply.body().toLowerCase(Locale.ROOT);
        assertThat(seen).contains("host: internal.local", "x-keep: kept", "x-added: yes")
                .doesNotContain("x-drop-me", "x-added: client", "\nhost: settings.example");
        assertThat(reply.headers().get("X-Served-By")).isEqualTo("edge");
        assertThat(reply.headers().get("Content-Type")).isNull();
    }

    @Test
    void routeBodyLimitAnswers413ForDeclaredAndChunkedBodies() {
        assertThat(post("settings.example", 500, false).status()).isEqualTo(200);
        assertThat(post("settings.example", 2000, false).status()).isEqualTo(413);
        assertThat(post("settings.example", 5000, true).status()).isEqualTo(413);
        // other routes have no limit
        assertThat(post("plain.example", 5000, true).status()).isEqualTo(200);
    }

    @Test
    void routeResponseTimeoutAnswers504() {
        long start = System.nanoTime();
        PublicClient.Reply reply = PublicClient.get(ingress, "slow.example", "/slow?delayMillis=20000");
        assertThat(reply.status()).isEqualTo(504);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void spoofedForwardedForFromAnUntrustedPeerIsReplaced() {
        String seen = headersSeen(ingress, "plain.example");
        assertThat(seen).contains("x-forwarded-for: 127.0.0.1\n", "forwarded: for=127.0.0.1;proto=http;host=plain.example\n")
                .doesNotContain("6.6.6.6", "evil");
    }

    @Test
    void forwardedForFromATrustedPeerIsAppendedTo() {
        String seen = headersSeen(trustingIngress, "trust.example");
        assertThat(seen).contains(
                "x-forwarded-for: 6.6.6.6, 127.0.0.1\n",
                // the ALB never sets Forwarded: a client's element is dropped even from a trusted peer
                "forwarded: for=127.0.0.1;proto=http;host=trust.example\n");
        assertThat(seen).doesNotContain("evil");
    }

    @Test
    void serverSentEventsSpacedBeyondTheResponseTimeoutAllArrive() {
        // trustingIngress answers 504 when headers take over 1 s; events come 1.5 s apart
        List<String> events = new ArrayList<>();
        Integer status = PublicClient.to(trustingIngress, "trust.example")
                .get().uri("/sse?count=4&intervalMillis=1500")
                .response((res, body) -> body.asString(StandardCharsets.UTF_8)
                        .doOnNext(collect(events))
                        .then(Mono.just(res.status().code())))
                .single()
                .block(TIMEOUT);
        assertThat(status).isEqualTo(200);
        assertThat(String.join("", events)).contains("event-0", "event-1", "event-2", "event-3");
    }

    @Test
    void aStreamSilentForTheRoutesIdleTimeoutIsAbortedAndItsLocalConnectionClosed() {
        int closedBefore = appB.cancelled.get();
        List<String> received = new ArrayList<>();
        long start = System.nanoTime();

        Throwable error = PublicClient.to(ingress, "idle.example")
                .get().uri("/stall")
                .response((res, body) -> body.asString(StandardCharsets.UTF_8).doOnNext(collect(received)))
                .then(Mono.<Throwable>error(new AssertionError("the stalled response ended cleanly")))
                .onErrorResume(e -> !(e instanceof AssertionError), Mono::just)
                .block(TIMEOUT);

        // aborted, never a clean-looking end, after the first line and well before any default timeout
        assertThat(error).isNotNull();
        assertThat(String.join("", received)).isEqualTo("first line\n");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> appB.cancelled.get() > closedBefore);
    }

    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void accessLogHasOneStructuredLinePerRequestWithoutSecrets(CapturedOutput output) {
        byte[] bytes = new byte[500];
        PublicClient.Reply reply = PublicClient.to(ingress, "plain.example")
                .headers(h -> h.set("X-Request-Id", "access-log-1")
                        .set("Cookie", "session=secret-cookie")
                        .set("Authorization", "Bearer secret-token")
                        .set("Content-Length", 500))
                .post().uri("/sha256?token=secret-query")
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(bytes)))
                .responseSingle(PublicClient::reply)
                .block(TIMEOUT);
        assertThat(reply.status()).isEqualTo(200);
        await().atMost(TIMEOUT).until(() -> output.getAll().contains("request_id=access-log-1 "));
        String line = output.getAll().lines().filter(l -> l.contains("request_id=access-log-1 ")).findFirst().orElseThrow();
        assertThat(line).contains(
                "io.edgetunnel.ingress.access",
                "POST plain.example/sha256 -> 200 completed in ",
                "bytes_in=500 ",
                "bytes_out=" + reply.body().length() + " ",
                "agent=agent-features ",
                "outcome=ok");
        assertThat(output.getAll()).doesNotContain("secret-cookie", "secret-token", "secret-query");
    }

    private static Consumer<String> collect(List<String> events) {
        return text -> {
            synchronized (events) {
                events.add(text);
            }
        };
    }

    private static String headersSeen(IngressNode node, String host) {
        PublicClient.Reply reply = PublicClient.to(node, host)
                .headers(h -> h.set("X-Forwarded-For", "6.6.6.6").set("Forwarded", "for=6.6.6.6;host=evil"))
                .get().uri("/headers")
                .responseSingle(PublicClient::reply)
                .block(TIMEOUT);
        assertThat(reply.status()).isEqualTo(200);
        return reply.body().toLowerCase(Locale.ROOT);
    }

    private static PublicClient.Reply post(String host, int size, boolean chunked) {
        byte[] bytes = new byte[size];
        HttpClient client = PublicClient.to(ingress, host);
        Flux<ByteBuf> body = chunked
                ? Flux.range(0, size / 100).map(i -> Unpooled.wrappedBuffer(bytes, i * 100, 100))
                : Flux.just(Unpooled.wrappedBuffer(bytes));
        if (!chunked) {
            client = client.headers(h -> h.set("Content-Length", size));
        }
        return client.post().uri("/sha256").send(body).responseSingle(PublicClient::reply).block(TIMEOUT);
    }
}
