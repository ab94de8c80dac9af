package io.edgetunnel.e2e.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;

/**
 * IAM mode end to end: the real agent signs its proof with its (task role) credentials, the real
 * ingress checks it and sends it to its configured STS, here a loopback server that recomputes the
 * SigV4 signature with the secret key only it and the "task role" know. Then public traffic flows.
 */
@ExtendWith(NoLeaks.class)
class IamProofEndToEndIntegrationTests {

    private static final String ACCESS_KEY = "AKIAE2EEDGETUNNEL001";
    private static final String SECRET_KEY = "e2eSecretKey/K7MDENG/bPxRfiCYEXAMPLEKEY01";
    private static final String SESSION_TOKEN = "IQoJb3JpZ2luX2VjE2ESessionToken";
    private static final String TASK_ID = "5f2d0c1b9a8e7d6c5b4a39281706f5e4";
    private static final String ROLE = "edge-agent-task-role";
    private static final String SERVER_ID = "tunnel.e2e.test";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern AUTH = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/sts/aws4_request, ?SignedHeaders=([^,]+), ?Signature=.*");

    private static HttpServer sts;
    private static final AtomicInteger verified = new AtomicInteger();
    private static final AtomicInteger refused = new AtomicInteger();
    /** Signed header names of the last request STS verified. */
    private static volatile String lastSignedHeaders = "";
    private static UpstreamApp upstream;
    private IngressNode ingress;
    private AgentNode agent;

    @BeforeAll
    static void start() throws IOException {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET_KEY);
        System.setProperty("aws.sessionToken", SESSION_TOKEN);
        sts = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        sts.createContext("/", IamProofEndToEndIntegrationTests::sts);
        sts.start();
        upstream = new UpstreamApp("iam-app");
    }

    @AfterAll
    static void stop() {
        sts.stop(0);
        upstream.close();
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        System.clearProperty("aws.sessionToken");
    }

    @AfterEach
    void close() {
        if (agent != null) {
            agent.close();
        }
        if (ingress != null) {
            ingress.close();
        }
    }

    private static String stsUrl() {
        return "http://127.0.0.1:" + sts.getAddress().getPort() + "/";
    }

    private IngressNode ingress() {
        return IngressNode.start(
                "ingress.auth.mode=iam",
                "ingress.iam.server-id=" + SERVER_ID,
                "ingress.iam.sts-url=" + stsUrl(),
                "ingress.iam.allowed-accounts=111122223333",
                "ingress.policy.rules[0].identity=arn:aws:iam::111122223333:role/edge-agent-*",
                "ingress.policy.rules[0].hosts[0]=iam.e2e.test");
    }

    private AgentNode agent(String host, String serverId) {
        return AgentNode.start(ingress, "iam-agent", AgentNode.route(host, upstream.url()),
                "agent.aws.region=eu-west-1",
                "agent.identity.proof.enabled=true",
                "agent.identity.proof.server-id=" + serverId,
                "agent.identity.proof.sts-url=" + stsUrl());
    }

    @Test
    void agentProvesItsRoleAndServesItsHost() throws Exception {
        ingress = ingress();
        agent = agent("iam.e2e.test", SERVER_ID);
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("iam.e2e.test") == 1);

        PublicClient.Reply reply = PublicClient.get(ingress, "iam.e2e.test", "/name");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("iam-app");
        assertThat(verified.get()).isPositive();
        // the proof the ingress sent on was bound to the tunnel connection by its handshake nonce
        assertThat(lastSignedHeaders).contains("x-edge-tunnel-nonce").contains("x-edge-tunnel-server-id");

        String listing = management(ingress, "/actuator/tunnels");
        assertThat(listing).contains("\"identity\":\"arn:aws:iam::111122223333:role/" + ROLE + "\"")
                .contains("\"verifiedBy\":\"iam\"")
                .contains("\"selfCheck\":false")
                .doesNotContain(SESSION_TOKEN);
    }

    @Test
    void proofForAnotherServerIsRefusedBeforeSts() {
        ingress = ingress();
        int before = verified.get() + refused.get();
        agent = agent("iam.e2e.test", "someone-else.example");
        await().atMost(TIMEOUT).until(() -> ingress.meters().find("tunnel.ingress.registrations")
                .tag("reason", "IDENTITY_UNVERIFIED").counter().count() >= 1);
        assertThat(ingress.registry().tunnelCount("iam.e2e.test")).isZero();
        assertThat(verified.get() + refused.get()).isEqualTo(before);
    }

    private static String management(IngressNode node, String path) throws Exception {
        java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** STS: recompute the signature from the signed headers; answer the caller only if it matches. */
    private static void sts(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        boolean ok = false;
        if (authorization != null && "POST".equals(exchange.getRequestMethod())) {
            Matcher m = AUTH.matcher(authorization);
            if (m.matches() && ACCESS_KEY.equals(m.group(1))) {
                SdkHttpRequest.Builder rebuilt = SdkHttpRequest.builder().method(SdkHttpMethod.POST)
                        .uri(URI.create("http://" + exchange.getRequestHeaders().getFirst("Host") + "/"));
                for (String name : List.of(m.group(4).split(";"))) {
                    if (!List.of("host", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256").contains(name)) {
                        rebuilt.putHeader(name, exchange.getRequestHeaders().getFirst(name));
                    }
                }
                Clock at = Clock.fixed(LocalDateTime.parse(exchange.getRequestHeaders().getFirst("X-Amz-Date"),
                        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
                String expected = AwsV4HttpSigner.create().sign(r -> r
                                .identity(AwsSessionCredentials.create(ACCESS_KEY, SECRET_KEY,
                                        exchange.getRequestHeaders().getFirst("X-Amz-Security-Token")))
                                .request(rebuilt.build())
                                .payload(ContentStreamProvider.fromUtf8String(body))
                                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "sts")
                                .putProperty(AwsV4HttpSigner.REGION_NAME, m.group(3))
                                .putProperty(HttpSigner.SIGNING_CLOCK, at))
                        .request().firstMatchingHeader("Authorization").orElse("");
                ok = expected.equals(authorization) && "Action=GetCallerIdentity&Version=2011-06-15".equals(body);
                if (ok) {
                    lastSignedHeaders = m.group(4);
                }
            }
        }
        (ok ? verified : refused).incrementAndGet();
        byte[] answer = (ok
                ? "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
                        + "<Arn>arn:aws:sts::111122223333:assumed-role/" + ROLE + "/" + TASK_ID + "</Arn>"
                        + "<UserId>AROAEXAMPLEROLEID1234:" + TASK_ID + "</UserId><Account>111122223333</Account>"
                        + "</GetCallerIdentityResult></GetCallerIdentityResponse>"
                : "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                        + "<Code>SignatureDoesNotMatch</Code><Message>no</Message></Error></ErrorResponse>")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/xml");
        exchange.sendResponseHeaders(ok ? 200 : 403, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }
}
