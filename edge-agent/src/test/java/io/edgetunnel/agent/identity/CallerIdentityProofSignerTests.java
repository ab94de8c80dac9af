package io.edgetunnel.agent.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.agent.aws.AwsStubs;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class CallerIdentityProofSignerTests {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-21T10:00:00Z"), ZoneOffset.UTC);

    @Test
    void signsAnUnsentGetCallerIdentityBoundToTheServerId() {
        CallerIdentityProofSigner signer = new CallerIdentityProofSigner(AwsStubs.sessionCredentials(),
                CallerIdentityProofSigner.regionalStsUrl("eu-west-1"), "eu-west-1", "ingress.example.com", CLOCK);
        JsonNode proof = JsonMapper.builder().build().readTree(signer.signNow());

        assertThat(proof.get("v").asInt()).isEqualTo(1);
        assertThat(proof.get("method").asString()).isEqualTo("POST");
        assertThat(proof.get("url").asString()).isEqualTo("https://sts.eu-west-1.amazonaws.com/");
        assertThat(proof.get("body").asString()).isEqualTo("Action=GetCallerIdentity&Version=2011-06-15");
        List<String> names = new ArrayList<>();
        String authorization = null;
        for (JsonNode header : proof.get("headers")) {
            names.add(header.get(0).asString().toLowerCase());
            if (header.get(0).asString().equalsIgnoreCase("authorization")) {
                authorization = header.get(1).asString();
            }
            if (header.get(0).asString().equalsIgnoreCase("x-amz-date")) {
                assertThat(header.get(1).asString()).isEqualTo("20261121T100000Z");
            }
        }
        assertThat(names).contains("host", "x-amz-date", "x-amz-security-token", "x-edge-tunnel-server-id",
                "authorization").doesNotHaveDuplicates();
        assertThat(authorization).startsWith("AWS4-HMAC-SHA256 Credential=" + AwsStubs.ACCESS_KEY
                        + "/20261121/eu-west-1/sts/aws4_request")
                .contains("x-edge-tunnel-server-id")
                .contains("host;")
                .contains("x-amz-date");
        // the proof carries a signature, never the secret key
        assertThat(proof.toString()).doesNotContain(AwsStubs.SECRET_KEY);
    }

    @Test
    void rejectsAnEmptyServerId() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CallerIdentityProofSigner(
                        AwsStubs.sessionCredentials(), URI.create("https://sts.eu-west-1.amazonaws.com/"), "eu-west-1",
                        " ", CLOCK))
                .hasMessageContaining("serverId: empty");
    }

    @Test
    void signsTheConnectionNonceAndRefusesAnythingElseInItsPlace() {
        CallerIdentityProofSigner signer = new CallerIdentityProofSigner(AwsStubs.sessionCredentials(),
                CallerIdentityProofSigner.regionalStsUrl("eu-west-1"), "eu-west-1", "ingress.example.com", CLOCK);
        String nonce = io.edgetunnel.protocol.ConnectionNonce.next();
        JsonNode proof = JsonMapper.builder().build().readTree(signer.signNow(nonce));
        String signedNonce = null;
        String authorization = "";
        for (JsonNode header : proof.get("headers")) {
            if (header.get(0).asString().equalsIgnoreCase("x-edge-tunnel-nonce")) {
                signedNonce = header.get(1).asString();
            }
            if (header.get(0).asString().equalsIgnoreCase("authorization")) {
                authorization = header.get(1).asString();
            }
        }
        assertThat(signedNonce).isEqualTo(nonce);
        assertThat(authorization).contains("x-edge-tunnel-nonce");
        // a hostile endpoint's "nonce" (a header injection, a huge value) is never signed
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> signer.signNow("abc\r\nX-Evil: 1"))
                .hasMessageContaining("connection nonce: not a nonce");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> signer.signNow("a".repeat(500)))
                .hasMessageContaining("connection nonce: not a nonce");
        assertThat(signer.signNow("")).doesNotContain("x-edge-tunnel-nonce").doesNotContain("X-Edge-Tunnel-Nonce");
    }
}
