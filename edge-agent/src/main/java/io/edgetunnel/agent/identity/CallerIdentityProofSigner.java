package io.edgetunnel.agent.identity;

import io.edgetunnel.protocol.ConnectionNonce;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds the IAM proof for the hello: an {@code sts:GetCallerIdentity} request signed with SigV4 by
 * the task role's credentials, but never sent. The ingress checks it and sends it to its own STS
 * endpoint, learning this agent's role without trusting the agent (the HashiCorp Vault AWS IAM
 * pattern). The {@value #SERVER_ID_HEADER} header is signed, so a proof captured by another
 * service is useless against this ingress, and the signature dates it (the ingress allows ±5 min).
 *
 * <p>Wire encoding ({@code Hello.identityProof}), a small JSON object:
 *
 * <pre>{"v":1,"method":"POST","url":"https://sts.eu-west-1.amazonaws.com/",
 *  "headers":[["Host","sts.eu-west-1.amazonaws.com"],["X-Amz-Date","…"],…],
 *  "body":"Action=GetCallerIdentity&amp;Version=2011-06-15"}</pre>
 *
 * Headers are a list of pairs, not an object, so a duplicate is visible to the ingress (which
 * rejects it) instead of silently collapsing. The proof holds a session token and a signature,
 * but no secret key; it is still never logged.
 */
public final class CallerIdentityProofSigner {

    public static final String SERVER_ID_HEADER = "X-Edge-Tunnel-Server-ID";
    public static final String BODY = "Action=GetCallerIdentity&Version=2011-06-15";
    /** {@code charset=UTF-8}, as the SDK writes it; servers may normalise the case before re-signing. */
    static final String CONTENT_TYPE = "application/x-www-form-urlencoded; charset=UTF-8";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final AwsCredentialsProvider credentials;
    private final URI stsUrl;
    private final String region;
    private final String serverId;
    private final Clock clock;

    public CallerIdentityProofSigner(
            AwsCredentialsProvider credentials, URI stsUrl, String region, String serverId, Clock clock) {
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.stsUrl = Objects.requireNonNull(stsUrl, "stsUrl");
        this.region = Objects.requireNonNull(region, "region");
        this.serverId = Objects.requireNonNull(serverId, "serverId");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (serverId.isBlank()) {
            throw new IllegalArgumentException("serverId: empty (expected: the ingress's server id)");
        }
        if (!"https".equals(stsUrl.getScheme()) && !"http".equals(stsUrl.getScheme())) {
            throw new IllegalArgumentException("stsUrl: " + stsUrl + " (expected: https://sts.REGION.amazonaws.com/)");
        }
    }

    /** {@code https://sts.REGION.amazonaws.com/}: the regional endpoint, which the ingress must also use. */
    public static URI regionalStsUrl(String region) {
        return URI.create("https://sts." + region + ".amazonaws.com/");
    }

    /** A fresh proof; credentials may be fetched (container credentials endpoint), so off the event loop. */
    public Mono<String> sign() {
        return sign("");
    }

    /**
     * A fresh proof bound to the connection whose handshake carried {@code nonce} (signed as {@value
     * ConnectionNonce#HEADER}); {@code ""} signs none, for an ingress that does not issue nonces.
     */
    public Mono<String> sign(String nonce) {
        return Mono.fromCallable(() -> signNow(nonce)).subscribeOn(Schedulers.boundedElastic());
    }

    /** Blocking variant of {@link #sign()}. */
    public String signNow() {
        return signNow("");
    }

    /** Blocking variant of {@link #sign(String)}. */
    public String signNow(String nonce) {
        SdkHttpRequest.Builder builder = SdkHttpRequest.builder()
                .method(SdkHttpMethod.POST)
                .uri(stsUrl)
                .putHeader("Content-Type", CONTENT_TYPE)
                .putHeader(SERVER_ID_HEADER, serverId);
        if (nonce != null && !nonce.isEmpty()) {
            if (!ConnectionNonce.wellFormed(nonce)) {
                // never sign what a hostile endpoint chose to smuggle into a header
                throw new IllegalArgumentException("connection nonce: not a nonce (expected: 22-64 URL-safe base64 characters)");
            }
            builder.putHeader(ConnectionNonce.HEADER, nonce);
        }
        SdkHttpRequest unsigned = builder.build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r.identity(credentials.resolveCredentials())
                .request(unsigned)
                .payload(ContentStreamProvider.fromUtf8String(BODY))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "sts")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(HttpSigner.SIGNING_CLOCK, clock));
        return encode("POST", signed.request().getUri().toString(), headerList(signed.request()), BODY);
    }

    private static List<Map.Entry<String, String>> headerList(SdkHttpRequest request) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        request.forEachHeader((name, values) -> values.forEach(v -> headers.add(Map.entry(name, v))));
        return headers;
    }

    static String encode(String method, String url, List<Map.Entry<String, String>> headers, String body) {
        ObjectNode root = JSON.createObjectNode();
        root.put("v", 1);
        root.put("method", method);
        root.put("url", url);
        ArrayNode list = root.putArray("headers");
        headers.forEach(h -> list.addArray().add(h.getKey()).add(h.getValue()));
        root.put("body", body);
        return JSON.writeValueAsString(root);
    }
}
