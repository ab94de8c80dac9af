package io.edgetunnel.ingress.security.iam;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;

import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.matching.MatchResult;
import java.net.URI;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;

/**
 * STS in WireMock that really checks SigV4: it rebuilds the request from the signed headers, signs
 * it again with the known secret key at the request's own {@code X-Amz-Date}, and answers the caller
 * identity only when the {@code Authorization} headers agree; otherwise 403 SignatureDoesNotMatch,
 * as STS would.
 */
public final class FakeSts {

    public static final String ACCOUNT = "111122223333";
    public static final String ACCESS_KEY = "AKIAEDGETUNNELTEST01";
    /** Never to appear in any log: the hygiene test greps for it. */
    public static final String SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEYZ";
    public static final String SESSION_TOKEN = "IQoJb3JpZ2luX2VjEdgeTunnelTestSessionToken0123456789";
    public static final String TASK_ID = "0123456789abcdef0123456789abcdef";
    public static final String ROLE = "edge-agent-task-role";
    public static final String ROLE_ARN = "arn:aws:iam::111122223333:role/" + ROLE;
    public static final String CALLER_ARN = "arn:aws:sts::111122223333:assumed-role/" + ROLE + "/" + TASK_ID;

    private static final Pattern AUTH = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/sts/aws4_request, ?SignedHeaders=([^,]+), ?Signature=.*");
    private static final Set<String> ADDED_BY_SIGNER = Set.of("host", "x-amz-date", "x-amz-security-token",
            "x-amz-content-sha256");

    private FakeSts() {}

    public static void install(WireMockExtension wm, String callerArn) {
        wm.stubFor(post("/").atPriority(1)
                .andMatching(FakeSts::signatureMatches)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/xml").withBody(identityXml(callerArn))));
        error(wm, 10, 403, "SignatureDoesNotMatch");
    }

    static void error(WireMockExtension wm, int priority, int status, String code) {
        wm.stubFor(post("/").atPriority(priority).willReturn(aResponse().withStatus(status)
                .withHeader("Content-Type", "text/xml")
                .withBody("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                        + "<Code>" + code + "</Code><Message>The request signature we calculated does not match.</Message>"
                        + "</Error><RequestId>0c2e8b5e-0000-4000-8000-000000000000</RequestId></ErrorResponse>")));
    }

    public static String identityXml(String arn) {
        return """
                <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <GetCallerIdentityResult><Arn>%s</Arn><UserId>AROAEXAMPLEROLEID1234:%s</UserId>
                    <Account>%s</Account></GetCallerIdentityResult>
                  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
                </GetCallerIdentityResponse>""".formatted(arn, TASK_ID, ACCOUNT);
    }

    static MatchResult signatureMatches(Request request) {
        String authorization = request.getHeader("Authorization");
        if (authorization == null) {
            return MatchResult.noMatch();
        }
        Matcher m = AUTH.matcher(authorization);
        if (!m.matches() || !ACCESS_KEY.equals(m.group(1))) {
            return MatchResult.noMatch();
        }
        String amzDate = request.getHeader("X-Amz-Date");
        SdkHttpRequest.Builder rebuilt = SdkHttpRequest.builder()
                .method(SdkHttpMethod.POST)
                .uri(URI.create("http://" + request.getHeader("Host") + request.getUrl()));
        for (String name : List.of(m.group(4).split(";"))) {
            if (!ADDED_BY_SIGNER.contains(name)) {
                if (!request.containsHeader(name)) {
                    return MatchResult.noMatch();
                }
                rebuilt.putHeader(name, request.getHeader(name));
            }
        }
        String token = request.getHeader("X-Amz-Security-Token");
        AwsCredentials credentials = token == null ? AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)
                : AwsSessionCredentials.create(ACCESS_KEY, SECRET_KEY, token);
        Clock at = Clock.fixed(LocalDateTime.parse(amzDate, DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"))
                .toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        String expected = AwsV4HttpSigner.create().sign(r -> r.identity(credentials)
                        .request(rebuilt.build())
                        .payload(ContentStreamProvider.fromUtf8String(request.getBodyAsString()))
                        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "sts")
                        .putProperty(AwsV4HttpSigner.REGION_NAME, m.group(3))
                        .putProperty(HttpSigner.SIGNING_CLOCK, at))
                .request()
                .firstMatchingHeader("Authorization")
                .orElse("");
        return MatchResult.of(expected.equals(authorization));
    }
}
