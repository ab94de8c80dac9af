package io.edgetunnel.ingress.security.secrets;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okForContentType;
import static com.github.tomakehurst.wiremock.client.WireMock.post;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.ingress.security.iam.IngressAwsClients;
import io.edgetunnel.ingress.security.iam.IngressAwsProperties;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** Secrets Manager (awsJson1_1) answers for WireMock. */
public final class SecretsStubs {

    public static final String SECRET_ID = "edge/tunnel-token";
    /** Never to appear in any log. */
    public static final String SECRET_KEY = "ingressSecretKey/K7MDENG/bPxRfiCYEXAMPLEKEY";

    private SecretsStubs() {}

    static IngressAwsClients clients(WireMockExtension wm) {
        return new IngressAwsClients(new IngressAwsProperties("eu-west-1", URI.create(wm.baseUrl()), null, null, null,
                Duration.ofSeconds(30), 1),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIAINGRESSTEST00001", SECRET_KEY)));
    }

    public static void version(WireMockExtension wm, String stage, String value) {
        version(wm, SECRET_ID, stage, value);
    }

    /** A version of the secret asked for by {@code secretId} exactly (its name or its ARN). */
    public static void version(WireMockExtension wm, String secretId, String stage, String value) {
        wm.stubFor(post("/").withHeader("X-Amz-Target", equalTo("secretsmanager.GetSecretValue"))
                .withRequestBody(matchingJsonPath("$.SecretId", equalTo(secretId)))
                .withRequestBody(matchingJsonPath("$.VersionStage", equalTo(stage)))
                .willReturn(okForContentType("application/x-amz-json-1.1", """
                        {"ARN":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:%s-AbCdEf","Name":"%s",
                         "VersionId":"v-%s","SecretString":"%s","VersionStages":["%s"],"CreatedDate":1.7634E9}"""
                        .formatted(SECRET_ID, SECRET_ID, Integer.toHexString(value.hashCode()),
                                value.replace("\"", "\\\""), stage))));
    }

    public static void noVersion(WireMockExtension wm, String stage) {
        error(wm, stage, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: " + stage);
    }

    public static void error(WireMockExtension wm, String stage, String type, String message) {
        wm.stubFor(post("/").withHeader("X-Amz-Target", equalTo("secretsmanager.GetSecretValue"))
                .withRequestBody(matchingJsonPath("$.VersionStage", equalTo(stage)))
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/x-amz-json-1.1")
                        .withBody("{\"__type\":\"" + type + "\",\"Message\":\"" + message + "\"}")));
    }
}
