package io.edgetunnel.ingress.security.iam;

import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds proofs exactly as the agent's {@code CallerIdentityProofSigner} does (same SDK signer, same
 * wire encoding), with hooks to tamper before or after signing.
 */
public final class ProofFixture {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public URI url;
    public String serverId = "ingress.example.com";
    String body = CallerIdentityVerifier.BODY;
    String method = "POST";
    public Clock clock = Clock.systemUTC();
    String region = "eu-west-1";
    String secretKey = FakeSts.SECRET_KEY;
    boolean signServerId = true;
    /** The connection nonce to sign; null signs none. */
    public String nonce;
    /** Applied to the signed header list before encoding. */
    UnaryOperator<List<Map.Entry<String, String>>> afterSigning = UnaryOperator.identity();

    public ProofFixture(URI url) {
        this.url = url;
    }

    public String encode() {
        SdkHttpRequest.Builder unsigned = SdkHttpRequest.builder()
                .method(SdkHttpMethod.POST)
                .uri(url)
                .putHeader("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8");
        if (signServerId) {
            unsigned.putHeader("X-Edge-Tunnel-Server-ID", serverId);
        }
        if (nonce != null) {
            unsigned.putHeader("X-Edge-Tunnel-Nonce", nonce);
        }
        SdkHttpRequest signed = AwsV4HttpSigner.create().sign(r -> r
                        .identity(AwsSessionCredentials.create(FakeSts.ACCESS_KEY, secretKey, FakeSts.SESSION_TOKEN))
                        .request(unsigned.build())
                        .payload(ContentStreamProvider.fromUtf8String(body))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "sts")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                        .putProperty(HttpSigner.SIGNING_CLOCK, clock))
                .request();
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        signed.forEachHeader((name, values) -> values.forEach(v -> headers.add(Map.entry(name, v))));
        List<Map.Entry<String, String>> sent = afterSigning.apply(headers);
        ObjectNode root = JSON.createObjectNode();
        root.put("v", 1);
        root.put("method", method);
        root.put("url", signed.getUri().toString());
        ArrayNode list = root.putArray("headers");
        sent.forEach(h -> list.addArray().add(h.getKey()).add(h.getValue()));
        root.put("body", body);
        return JSON.writeValueAsString(root);
    }

    static UnaryOperator<List<Map.Entry<String, String>>> replace(String header, String value) {
        return headers -> headers.stream()
                .map(h -> h.getKey().equalsIgnoreCase(header) ? Map.entry(h.getKey(), value) : h)
                .toList();
    }

    static UnaryOperator<List<Map.Entry<String, String>>> add(String header, String value) {
        return headers -> {
            List<Map.Entry<String, String>> copy = new ArrayList<>(headers);
            copy.add(Map.entry(header, value));
            return copy;
        };
    }
}
