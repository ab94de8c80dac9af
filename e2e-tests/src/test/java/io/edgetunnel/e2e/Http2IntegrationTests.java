package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.Payloads;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpVersion;
import java.net.URI;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * HTTP/2 cleartext on the public port with real HTTP/2 clients: the JDK client (which upgrades an
 * {@code http://} connection with {@code Upgrade: h2c}) and Reactor Netty's client with prior
 * knowledge. The local app behind the agent speaks HTTP/1.1; the tunnel carries the same request
 * either way. The management port stays HTTP/1.1 only.
 */
@ExtendWith(NoLeaks.class)
class Http2IntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static UpstreamApp app;
    private static IngressNode ingress;
    private static AgentNode agent;
    private static ConnectionProvider pool;
    /** Prior knowledge, so every request is HTTP/2 from its first byte. */
    private static HttpClient h2c;

    @BeforeAll
    static void start() {
        app = new UpstreamApp("h2");
        ingress = IngressNode.start("ingress.proxy.h2c=true", "ingress.proxy.h2c-upgrade-hosts=localhost");
        Map<String, String> routes = new LinkedHashMap<>();
        // the JDK client sends the URI's authority and may not override it: localhost resolves to 127.0.0.1
        routes.put("localhost", app.url());
        routes.put("h2.example", app.url());
        agent = AgentNode.start(ingress, "agent-h2", routes);
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("h2.example") == 1);
        // one connection: every concurrent request is a stream on it
        pool = ConnectionProvider.builder("e2e-h2c").maxConnections(1).pendingAcquireMaxCount(-1).build();
        // one client instance: each HttpClient configuration gets a pool of its own in the provider
        h2c = HttpClient.create(pool)
                .protocol(HttpProtocol.H2C)
                .host("127.0.0.1")
                .port(ingress.publicPort())
                .headers(h -> h.set("Host", "h2.example").set("x-client", "yes"))
                .responseTimeout(TIMEOUT);
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.disposeLater().block(TIMEOUT);
        }
        if (agent != null) {
            agent.close();
        }
        if (ingress != null) {
            ingress.close();
        }
        if (app != null) {
            app.close();
        }
    }

    @Test
    void jdkClientUpgradesToHttp2AndSendsBodiesThroughTheTunnel() throws Exception {
        java.net.http.HttpClient client = jdkHttp2Client();
        {
            URI base = URI.create("http://localhost:" + ingress.publicPort());

            HttpResponse<String> name = client.send(
                    HttpRequest.newBuilder(base.resolve("/name")).timeout(TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(name.version()).isEqualTo(Version.HTTP_2);
            assertThat(name.statusCode()).isEqualTo(200);
            assertThat(name.body()).isEqualTo("h2");

            String payload = "a body sent over HTTP/2 ".repeat(2000);
            HttpResponse<String> echo = client.send(
                    HttpRequest.newBuilder(base.resolve("/echo"))
                            .timeout(TIMEOUT)
                            .POST(HttpRequest.BodyPublishers.ofString(payload))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(echo.version()).isEqualTo(Version.HTTP_2);
            assertThat(echo.statusCode()).isEqualTo(200);
            assertThat(echo.body()).isEqualTo(payload);
        }
    }

    @Test
    void priorKnowledgeClientStreamsABodyBothWays() {
        long size = 300_000;
        String expected = size + " " + Payloads.sha256(size, 0);
        PublicClient.Reply reply = h2c
                .post()
                .uri("/sha256")
                // no Content-Length: the body arrives as DATA frames of unknown total length
                .send(Payloads.stream(size, 16 * 1024))
                .responseSingle((response, body) -> {
                    assertThat(response.version()).isEqualTo(HttpVersion.valueOf("HTTP/2.0"));
                    return PublicClient.reply(response, body);
                })
                .block(TIMEOUT);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo(expected);

        PublicClient.Digest download = h2c
                .get()
                .uri("/bytes?size=" + size + "&chunked=true")
                .response(PublicClient::digest)
                .single()
                .block(TIMEOUT);
        assertThat(download).isEqualTo(new PublicClient.Digest(200, size, Payloads.sha256(size, 0)));
    }

    @Test
    void manyConcurrentStreamsOnOneHttp2ConnectionEachGetTheirOwnAnswer() {
        List<String> bodies = Flux.range(0, 40)
                .flatMap(i -> h2c
                        .post()
                        .uri("/echo")
                        .send(Mono.fromSupplier(() -> Unpooled.copiedBuffer("stream-" + i, StandardCharsets.UTF_8)))
                        .responseSingle(PublicClient::reply)
                        .map(PublicClient.Reply::body))
                .collectList()
                .block(TIMEOUT);
        assertThat(bodies).hasSize(40).doesNotHaveDuplicates().allMatch(body -> body.startsWith("stream-"));
    }

    @Test
    void appSeesTheClientsHeadersAndNoneOfNettysHttp2Bookkeeping() {
        PublicClient.Reply reply = h2c
                .get()
                .uri("/headers")
                .responseSingle(PublicClient::reply)
                .block(TIMEOUT);
        assertThat(reply.status()).isEqualTo(200);
        String headers = reply.body().toLowerCase(java.util.Locale.ROOT);
        assertThat(headers).contains("host: h2.example", "x-client: yes", "x-forwarded-proto: http");
        assertThat(headers).doesNotContain("x-http2-");
    }

    @Test
    void serverSentEventsStreamOverHttp2() {
        List<String> events = h2c
                .get()
                .uri("/sse?count=3&intervalMillis=100")
                .response((response, body) -> body.asString(StandardCharsets.UTF_8))
                .collectList()
                .block(TIMEOUT);
        assertThat(String.join("", events)).contains("data: event-0", "data: event-1", "data: event-2");
    }

    @Test
    void responseTrailersFromTheAppReachAnHttp2Client() {
        for (int parts : new int[] {3, 0}) {
            String trailers = h2c
                    .get()
                    .uri("/trailers?parts=" + parts)
                    .response((response, body) -> body.asString(StandardCharsets.UTF_8)
                            .collectList()
                            .flatMap(chunks -> response.trailerHeaders()
                                    .map(t -> String.join("", chunks) + "|" + t.get("x-checksum") + "|" + t.get("x-parts"))))
                    .single()
                    .block(TIMEOUT);
            String body = parts == 3 ? "part-0\npart-1\npart-2\n" : "";
            // with no body the headers still go first, so the trailers keep their own section
            assertThat(trailers).as("%d parts", parts).isEqualTo(body + "|sum-" + parts + "|" + parts);
        }
    }

    @Test
    void responseTrailersReachAnHttp11ClientOfAChunkedResponse() {
        String trailers = PublicClient.to(ingress, "h2.example")
                .headers(h -> h.set("TE", "trailers"))
                .get()
                .uri("/trailers?parts=2")
                .response((response, body) -> body.asString(StandardCharsets.UTF_8)
                        .collectList()
                        .flatMap(chunks -> response.trailerHeaders().map(t -> t.get("x-checksum"))))
                .single()
                .block(TIMEOUT);
        assertThat(trailers).isEqualTo("sum-2");
    }

    @Test
    void managementPortStaysHttp11() throws Exception {
        java.net.http.HttpClient client = jdkHttp2Client();
        {
            HttpResponse<String> health = client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ingress.managementPort() + "/actuator/health"))
                            .timeout(TIMEOUT)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            // the client asked to upgrade to h2c; an HTTP/1.1-only server ignores that
            assertThat(health.version()).isEqualTo(Version.HTTP_1_1);
        }
    }

    @Test
    void http11ClientsAreUnaffected() {
        PublicClient.Reply reply = PublicClient.get(ingress, "h2.example", "/name");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("h2");
    }

    /** A new client, so a new connection that starts with the h2c upgrade (Java 17's client has no close). */
    private static java.net.http.HttpClient jdkHttp2Client() {
        return java.net.http.HttpClient.newBuilder()
                .version(Version.HTTP_2)
                .connectTimeout(TIMEOUT)
                .build();
    }
}
