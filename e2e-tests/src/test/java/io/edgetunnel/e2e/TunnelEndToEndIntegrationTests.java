package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.RefusedPort;
import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.Payloads;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.junit.jupiter.params.provider.CsvSource;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The whole system as a user meets it: a real ingress, two real agents and real upstream servers,
 * each on a random loopback port, driven through the public port with plain HTTP.
 */
@ExtendWith(NoLeaks.class)
class TunnelEndToEndIntegrationTests {

    private static final int WINDOW = 256 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static UpstreamApp upstreamA;
    private static UpstreamApp upstreamB;
    private static UpstreamApp wildApp;
    private static UpstreamApp exactApp;
    private static IngressNode ingress;
    private static AgentNode agentA;
    private static AgentNode agentB;
    private static RefusedPort refused;
    private static int closedPort;

    @BeforeAll
    static void start() throws IOException {
        upstreamA = new UpstreamApp("a");
        upstreamB = new UpstreamApp("b");
        wildApp = new UpstreamApp("wild");
        exactApp = new UpstreamApp("exact");
        refused = RefusedPort.take();
        closedPort = refused.port();
        ingress = IngressNode.start(
                "ingress.proxy.response-timeout=30s",
                "ingress.proxy.max-request-body-bytes=33554432",
                "ingress.tunnel.initial-stream-window=" + WINDOW);
        Map<String, String> routesA = new LinkedHashMap<>();
        routesA.put("app.example", upstreamA.url());
        routesA.put("one.example", upstreamA.url());
        routesA.put("*.wild.example", wildApp.url());
        routesA.put("exact.wild.example", exactApp.url());
        routesA.put("refused.example", "http://127.0.0.1:" + closedPort);
        agentA = AgentNode.start(ingress, "agent-a", routesA);
        agentB = AgentNode.start(ingress, "agent-b", AgentNode.route("app.example", upstreamB.url()));
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("app.example") == 2);
    }

    @AfterAll
    static void stop() {
        if (refused != null) {
            refused.close();
        }
        for (AutoCloseable closeable : new AutoCloseable[] {agentA, agentB, ingress, upstreamA, upstreamB, wildApp, exactApp}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    // ------------------------------------------------------------------ bodies both ways

    @ParameterizedTest(name = "GET {0} bytes, chunked={1}")
    @CsvSource({"0,false", "0,true", "1024,false", "1024,true", "10485760,false", "10485760,true"})
    void downloadsArriveIntactByChecksum(long size, boolean chunked) {
        AtomicReference<String> contentLength = new AtomicReference<>();
        PublicClient.Digest digest = PublicClient.to(ingress, "one.example")
                .get()
                .uri("/bytes?size=" + size + "&chunked=" + chunked)
                .response((res, body) -> {
                    contentLength.set(res.responseHeaders().get("Content-Length"));
                    return PublicClient.digest(res, body);
                })
                .single()
                .block(TIMEOUT);

        assertThat(digest.status()).isEqualTo(200);
        assertThat(digest.length()).isEqualTo(size);
        assertThat(digest.sha256()).isEqualTo(Payloads.sha256(size, 0));
        if (!chunked) {
            assertThat(contentLength.get()).as("the app's fixed length reaches the client").isEqualTo(Long.toString(size));
        } else if (size > 0) {
            assertThat(contentLength.get()).as("a chunked body stays chunked").isNull();
        }
    }

    @ParameterizedTest(name = "POST {0} bytes, chunked={1}")
    @CsvSource({"0,false", "0,true", "1024,false", "1024,true", "10485760,false", "10485760,true"})
    void uploadsArriveIntactByChecksum(long size, boolean chunked) {
        var client = PublicClient.to(ingress, "one.example");
        if (!chunked) {
            client = client.headers(h -> h.set("Content-Length", Long.toString(size)));
        }
        String answer = client.post()
                .uri("/sha256")
                .send(Payloads.stream(size, 8192, 7))
                .responseSingle((res, body) -> body.asString().defaultIfEmpty(""))
                .block(TIMEOUT);

        assertThat(answer).isEqualTo(size + " " + Payloads.sha256(size, 7));
    }

    @Test
    void echoStreamsTenMibBothWaysIntact() {
        long size = 10L * 1024 * 1024;
        PublicClient.Digest digest = PublicClient.to(ingress, "one.example")
                .post()
                .uri("/echo")
                .send(Payloads.stream(size, 16 * 1024, 3))
                .response((res, body) -> PublicClient.digest(res, body))
                .single()
                .block(TIMEOUT);

        assertThat(digest.status()).isEqualTo(200);
        assertThat(digest.sha256()).isEqualTo(Payloads.sha256(size, 3));
    }

    @Test
    void twoHundredConcurrentRequestsOverOneTunnelEachGetTheirOwnAnswer() {
        List<String> mismatches = Flux.range(0, 200)
                .flatMap(i -> {
                    byte[] body = Payloads.bytes(2048 + i, i);
                    return PublicClient.to(ingress, "one.example")
                            .post()
                            .uri("/echo?i=" + i)
                            .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                            .responseSingle((res, content) -> content.asByteArray()
                                    .defaultIfEmpty(new byte[0])
                                    .map(echoed -> Payloads.sha256(echoed).equals(Payloads.sha256(body))
                                            ? ""
                                            : "request " + i + ": status " + res.status().code() + ", "
                                                    + echoed.length + " of " + body.length + " bytes"));
                }, 200)
                .filter(s -> !s.isEmpty())
                .collectList()
                .block(TIMEOUT);

        assertThat(mismatches).isEmpty();
        assertThat(agentA.tunnels().connectedTunnels()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ routing

    @Test
    void roundRobinsAcrossTwoAgentsWithinTenPercent() {
        Map<String, Long> counts = Flux.range(0, 1000)
                .concatMap(i -> PublicClient.to(ingress, "app.example")
                        .get()
                        .uri("/name")
                        .responseSingle((res, body) -> body.asString()))
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()))
                .block(TIMEOUT);

        System.out.printf("round robin over 1000 requests: %s%n", counts);
        assertThat(counts).containsOnlyKeys("a", "b");
        assertThat(counts.get("a")).isBetween(450L, 550L);
        assertThat(counts.get("b")).isBetween(450L, 550L);
    }

    @Test
    void exactHostBeatsWildcardAndWildcardServesTheRest() {
        assertThat(PublicClient.get(ingress, "exact.wild.example", "/name").body()).isEqualTo("exact");
        assertThat(PublicClient.get(ingress, "other.wild.example", "/name").body()).isEqualTo("wild");
        assertThat(PublicClient.get(ingress, "deep.other.wild.example", "/name").body()).isEqualTo("wild");
    }

    @Test
    void hostIsMatchedCaseInsensitivelyWithPortAndTrailingDot() {
        assertThat(PublicClient.get(ingress, "ONE.Example.:8080", "/name").body()).isEqualTo("a");
    }

    @Test
    void unknownHostGets404ProblemBody() {
        PublicClient.Reply reply = PublicClient.get(ingress, "nobody.example", "/");

        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.headers().get("Content-Type")).contains("problem+json");
        assertThat(reply.body()).contains("nobody.example");
    }

    @Test
    void allAgentsGoneGives503WithRetryAfter() {
        UpstreamApp app = new UpstreamApp("gone");
        try (app) {
            AgentNode agent = AgentNode.start(ingress, "agent-gone", AgentNode.route("gone.example", app.url()));
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("gone.example") == 1);
            assertThat(PublicClient.get(ingress, "gone.example", "/name").body()).isEqualTo("gone");

            agent.close();
            await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("gone.example") == 0);

            PublicClient.Reply reply = PublicClient.get(ingress, "gone.example", "/name");
            assertThat(reply.status()).isEqualTo(503);
            assertThat(reply.headers().get("Retry-After")).isNotBlank();
        }
    }

    // ------------------------------------------------------------------ failures of the local side

    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void localAppRefusingConnectionsGives502AndBothSidesLogItWithTheRequestId(CapturedOutput output) {
        PublicClient.Reply reply = PublicClient.to(ingress, "refused.example")
                .headers(h -> h.set("X-Request-Id", "e2e-refused-7f3a"))
                .get()
                .uri("/")
                .responseSingle(PublicClient::reply)
                .block(TIMEOUT);

        assertThat(reply.status()).isEqualTo(502);
        assertThat(reply.headers().get("X-Request-Id")).isEqualTo("e2e-refused-7f3a");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(output.getAll().lines()
                        .filter(line -> line.contains("request_id=e2e-refused-7f3a")))
                .as("the agent's line about the failure and the ingress's access line")
                .anySatisfy(line -> assertThat(line).contains("UPSTREAM_CONNECT_FAILED"))
                .anySatisfy(line -> assertThat(line).contains("-> 502")));
    }

    @Test
    void slowLocalAppGives504AndTheLocalRequestIsCancelled() {
        int cancelledBefore = upstreamA.cancelled.get();

        PublicClient.Reply reply = PublicClient.get(ingress, "one.example", "/slow?delayMillis=120000");

        assertThat(reply.status()).isEqualTo(504);
        await().atMost(Duration.ofSeconds(10)).until(() -> upstreamA.cancelled.get() > cancelledBefore);
    }

    @Test
    void clientAbortingMidDownloadCancelsTheLocalRequest() {
        int cancelledBefore = upstreamA.cancelled.get();
        AtomicLong received = new AtomicLong();

        PublicClient.to(ingress, "one.example")
                .get()
                .uri("/download?mib=512")
                .response((res, body) -> body.doOnNext(buf -> received.addAndGet(buf.readableBytes())))
                .takeUntil(buf -> received.get() > 1024 * 1024)
                .then()
                .block(TIMEOUT);

        await().atMost(Duration.ofSeconds(15)).until(() -> upstreamA.cancelled.get() > cancelledBefore);
        assertThat(received.get()).isLessThan(512L * 1024 * 1024);
    }

    // ------------------------------------------------------------------ streaming

    @Test
    void serverSentEventsReachTheClientWhileTheAppIsStillSending() {
        AtomicLong firstEventAt = new AtomicLong();
        long started = System.nanoTime();

        List<String> chunks = PublicClient.to(ingress, "one.example")
                .get()
                .uri("/sse?count=4&intervalMillis=700")
                .response((res, body) -> body.asString(StandardCharsets.UTF_8))
                .doOnNext(chunk -> firstEventAt.compareAndSet(0, System.nanoTime()))
                .collectList()
                .block(TIMEOUT);
        long finished = System.nanoTime();

        assertThat(String.join("", chunks)).contains("event-0").contains("event-3");
        // the app spends 2.1 s between the first and the last event: the first must not wait for the last
        assertThat(Duration.ofNanos(finished - firstEventAt.get())).isGreaterThan(Duration.ofMillis(1500));
        assertThat(Duration.ofNanos(firstEventAt.get() - started)).isLessThan(Duration.ofMillis(1500));
    }

    // ------------------------------------------------------------------ limits

    @Test
    void bodyOverTheLimitGets413AndOtherTrafficContinues() throws IOException {
        String response = RawHttp.exchange(ingress.publicPort(),
                "POST /sha256 HTTP/1.1\r\nHost: one.example\r\nContent-Length: 40000000\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 413");
        assertThat(PublicClient.get(ingress, "one.example", "/name").body()).isEqualTo("a");
    }

    @Test
    void headerBlockOverTheLimitGets431AndOtherTrafficContinues() throws IOException {
        String response = RawHttp.exchange(ingress.publicPort(),
                "GET /name HTTP/1.1\r\nHost: one.example\r\nX-Big: " + "x".repeat(20_000) + "\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 431");
        assertThat(PublicClient.get(ingress, "one.example", "/name").body()).isEqualTo("a");
    }

    @Test
    void missingHostGets400() throws IOException {
        String response = RawHttp.exchange(ingress.publicPort(), "GET / HTTP/1.0\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.0 400");
        // the body only: a header value (the random X-Request-Id) may well end in "a"
        assertThat(response.substring(response.indexOf("\r\n\r\n") + 4)).doesNotContain("a\r\n");
    }

    @Test
    void agentWithWrongTokenIsRejectedAndCountedWhileOthersKeepServing() {
        double rejectedBefore = rejectedBadCredentials();
        UpstreamApp app = new UpstreamApp("intruder");
        try (app;
                AgentNode intruder = AgentNode.start(
                        ingress, "intruder", AgentNode.route("intruder.example", app.url()), "agent.token=wrong")) {
            await().atMost(TIMEOUT).until(() -> rejectedBadCredentials() > rejectedBefore);
            assertThat(ingress.registry().tunnelCount("intruder.example")).isZero();
            assertThat(intruder.tunnels().connectedTunnels()).isZero();
            assertThat(PublicClient.get(ingress, "intruder.example", "/name").status()).isEqualTo(404);
            assertThat(PublicClient.get(ingress, "one.example", "/name").body()).isEqualTo("a");
        }
    }

    private static double rejectedBadCredentials() {
        var counter = ingress.meters()
                .find("tunnel.ingress.registrations")
                .tag("result", "rejected")
                .tag("reason", "BAD_CREDENTIALS")
                .counter();
        return counter == null ? 0 : counter.count();
    }
}
