package io.edgetunnel.ingress.security.iam;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okForContentType;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.protocol.RejectReason;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The IAM proof, end to end: the proof is signed like the agent signs it, the verifier checks it
 * and sends it to a fake STS that recomputes the SigV4 signature. {@code agentChosen} is a second
 * server standing for any URL an attacker might put in a proof: it must never see a request.
 */
class CallerIdentityVerifierTests {

    private static final String SERVER_ID = "ingress.example.com";
    private static final Instant NOW = Instant.parse("2026-11-21T10:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @RegisterExtension
    static WireMockExtension sts = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    @RegisterExtension
    static WireMockExtension agentChosen = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private URI stsUrl;
    private IngressAwsClients aws;

    @BeforeEach
    void setUp() {
        stsUrl = URI.create(sts.baseUrl() + "/");
        agentChosen.stubFor(post("/").willReturn(okForContentType("text/xml",
                FakeSts.identityXml("arn:aws:sts::999999999999:assumed-role/admin/x"))));
    }

    @AfterEach
    void nothingReachedAnAgentChosenUrl() {
        agentChosen.verify(0, anyRequestedFor(anyUrl()));
        if (aws != null) {
            aws.close();
        }
    }

    private CallerIdentityVerifier verifier(Clock clock, EcsCheckProperties ecs, List<String> accounts) {
        return verifier(clock, ecs, accounts, List.of());
    }

    private CallerIdentityVerifier verifier(
            Clock clock, EcsCheckProperties ecs, List<String> accounts, List<String> roles) {
        return verifier(clock, ecs, accounts, roles, false);
    }

    private CallerIdentityVerifier verifier(
            Clock clock, EcsCheckProperties ecs, List<String> accounts, List<String> roles, boolean requireNonce) {
        IamAuthProperties properties = new IamAuthProperties(SERVER_ID, stsUrl, Duration.ofMinutes(5),
                Duration.ofSeconds(30), accounts, roles, requireNonce);
        Optional<EcsTaskVerifier> ecsVerifier = Optional.empty();
        if (ecs.enabled()) {
            aws = new IngressAwsClients(new IngressAwsProperties("eu-west-1", URI.create(sts.baseUrl()), null, null, null,
                    Duration.ofSeconds(30), 1), StaticCredentialsProvider.create(
                    AwsBasicCredentials.create("AKIAINGRESSOWNROLE01", "ingress-own-secret-key")));
            ecsVerifier = Optional.of(new EcsTaskVerifier(ecs, aws::ecs, aws::ssm));
        }
        return new CallerIdentityVerifier(properties, stsUrl, clock, ecsVerifier);
    }

    private CallerIdentityVerifier verifier() {
        return verifier(CLOCK, new EcsCheckProperties("", false, true, false, ""), List.of(FakeSts.ACCOUNT));
    }

    private ProofFixture proof() {
        ProofFixture fixture = new ProofFixture(stsUrl);
        fixture.clock = CLOCK;
        fixture.serverId = SERVER_ID;
        return fixture;
    }

    private void rejectedBeforeSts(String proof, String message) {
        assertThatThrownBy(() -> verifier().verify(proof).block())
                .isInstanceOfSatisfying(IdentityRejection.class,
                        e -> assertThat(e.reason()).isEqualTo(RejectReason.IDENTITY_UNVERIFIED))
                .hasMessageContaining(message);
        sts.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void genuineProofIsSentToTheConfiguredStsAndNamesTheRole() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        IamIdentity identity = verifier().verify(proof().encode()).block();

        assertThat(identity.roleArn()).isEqualTo(FakeSts.ROLE_ARN);
        assertThat(identity.sessionName()).isEqualTo(FakeSts.TASK_ID);
        assertThat(identity.account()).isEqualTo(FakeSts.ACCOUNT);
        sts.verify(1, postRequestedFor(urlEqualTo("/"))
                .withHeader("Accept", equalTo("text/xml"))
                .withHeader("X-Edge-Tunnel-Server-ID", equalTo(SERVER_ID))
                .withRequestBody(equalTo(CallerIdentityVerifier.BODY)));
    }

    @Test
    void tamperedSignedHeaderIsRejectedBySts() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        ProofFixture fixture = proof();
        fixture.afterSigning = ProofFixture.replace("X-Amz-Security-Token", FakeSts.SESSION_TOKEN + "x");
        assertThatThrownBy(() -> verifier().verify(fixture.encode()).block())
                .isInstanceOf(IdentityRejection.class)
                .hasMessageContaining("STS rejected the proof: SignatureDoesNotMatch (HTTP 403)");
        sts.verify(1, postRequestedFor(urlEqualTo("/")));
    }

    @Test
    void signatureFromAnotherKeyIsRejectedBySts() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        ProofFixture fixture = proof();
        fixture.secretKey = "not-the-secret-key-of-this-access-key-id0";
        assertThatThrownBy(() -> verifier().verify(fixture.encode()).block())
                .hasMessageContaining("SignatureDoesNotMatch");
    }

    @Test
    void wrongServerIdIsRejectedBeforeSts() {
        ProofFixture fixture = proof();
        fixture.serverId = "other-service.example.com";
        rejectedBeforeSts(fixture.encode(), "server id: other-service.example.com (expected: " + SERVER_ID);
    }

    @Test
    void unsignedServerIdIsRejectedBeforeSts() {
        ProofFixture fixture = proof();
        fixture.signServerId = false;
        fixture.afterSigning = ProofFixture.add("X-Edge-Tunnel-Server-ID", SERVER_ID);
        rejectedBeforeSts(fixture.encode(), "SignedHeaders lacks x-edge-tunnel-server-id");
    }

    @Test
    void foreignStsUrlIsRejectedAndNeverDialled() {
        ProofFixture fixture = proof();
        fixture.url = URI.create(agentChosen.baseUrl() + "/");
        rejectedBeforeSts(fixture.encode(), "url: " + agentChosen.baseUrl() + "/ (expected: " + stsUrl);
    }

    @Test
    void sameHostWithAnotherPathIsRejected() {
        ProofFixture fixture = proof();
        fixture.url = URI.create(sts.baseUrl() + "/redirect?to=elsewhere");
        rejectedBeforeSts(fixture.encode(), "url:");
    }

    @Test
    void proofSignedTenMinutesAgoIsRejectedAsReplay() {
        ProofFixture fixture = proof();
        fixture.clock = Clock.fixed(NOW.minus(Duration.ofMinutes(10)), ZoneOffset.UTC);
        rejectedBeforeSts(fixture.encode(), "600s from now (expected: within 300s");
    }

    @Test
    void proofFromTheFutureIsRejected() {
        ProofFixture fixture = proof();
        fixture.clock = Clock.fixed(NOW.plus(Duration.ofMinutes(6)), ZoneOffset.UTC);
        rejectedBeforeSts(fixture.encode(), "360s from now");
    }

    @Test
    void assumeRoleBodyIsRejected() {
        ProofFixture fixture = proof();
        fixture.body = "Action=AssumeRole&RoleArn=arn:aws:iam::111122223333:role/admin&RoleSessionName=x&Version=2011-06-15";
        rejectedBeforeSts(fixture.encode(), "body: not Action=GetCallerIdentity&Version=2011-06-15");
    }

    @Test
    void getMethodIsRejected() {
        ProofFixture fixture = proof();
        fixture.method = "GET";
        rejectedBeforeSts(fixture.encode(), "method: GET (expected: POST)");
    }

    @Test
    void extraHeaderOutsideTheAllowListIsRejected() {
        ProofFixture fixture = proof();
        fixture.afterSigning = ProofFixture.add("Accept", "application/json");
        rejectedBeforeSts(fixture.encode(), "header Accept not allowed");
    }

    @Test
    void duplicateHeaderIsRejected() {
        ProofFixture fixture = proof();
        fixture.afterSigning = ProofFixture.add("X-Amz-Security-Token", "second");
        rejectedBeforeSts(fixture.encode(), "header x-amz-security-token appears more than once");
    }

    @Test
    void nonPrintableHeaderValueIsRejected() {
        ProofFixture fixture = proof();
        fixture.afterSigning = ProofFixture.replace("Content-Type", "application/x-www-form-urlencoded\r\nX-Evil: 1");
        rejectedBeforeSts(fixture.encode(), "header content-type has characters outside printable ASCII");
    }

    @Test
    void unsignedContentTypeIsRejected() {
        ProofFixture fixture = proof();
        fixture.afterSigning = headers -> headers.stream()
                .map(h -> h.getKey().equalsIgnoreCase("authorization")
                        ? java.util.Map.entry(h.getKey(), h.getValue().replace("content-type;", ""))
                        : h)
                .toList();
        rejectedBeforeSts(fixture.encode(), "header content-type is not signed");
    }

    @Test
    void hostHeaderNamingAnotherServerIsRejected() {
        ProofFixture fixture = proof();
        fixture.afterSigning = ProofFixture.replace("Host", "sts.amazonaws.com.evil.example");
        rejectedBeforeSts(fixture.encode(), "Host: sts.amazonaws.com.evil.example");
    }

    @Test
    void malformedProofsAreRejected() {
        rejectedBeforeSts("", "no identity proof");
        rejectedBeforeSts("not json", "identity proof: not JSON");
        rejectedBeforeSts("{\"v\":1,\"method\":\"POST\",\"url\":\"x\",\"headers\":[],\"body\":\"\",\"extra\":1}",
                "unknown field 'extra'");
        rejectedBeforeSts("{\"v\":2,\"method\":\"POST\",\"url\":\"x\",\"headers\":[],\"body\":\"\"}", "version");
    }

    @Test
    void stsErrorsAreRejections() {
        FakeSts.error(sts, 1, 403, "ExpiredToken");
        assertThatThrownBy(() -> verifier().verify(proof().encode()).block())
                .hasMessageContaining("STS rejected the proof: ExpiredToken (HTTP 403)");
        sts.resetAll();
        sts.stubFor(post("/").willReturn(aResponse().withStatus(503)));
        assertThatThrownBy(() -> verifier().verify(proof().encode()).block())
                .hasMessageContaining("no error code (HTTP 503)");
    }

    @Test
    void stsRedirectIsNotFollowed() {
        sts.stubFor(post("/").willReturn(aResponse().withStatus(307).withHeader("Location", agentChosen.baseUrl() + "/")));
        assertThatThrownBy(() -> verifier().verify(proof().encode()).block())
                .hasMessageContaining("(HTTP 307)");
    }

    @Test
    void callerThatIsNotAnAssumedRoleIsRejected() {
        FakeSts.install(sts, "arn:aws:iam::111122223333:user/alice");
        assertThatThrownBy(() -> verifier().verify(proof().encode()).block())
                .hasMessageContaining("caller arn:aws:iam::111122223333:user/alice");
    }

    @Test
    void answerWithDoctypeIsRefused() {
        sts.stubFor(post("/").willReturn(okForContentType("text/xml", "<?xml version=\"1.0\"?>"
                + "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                + "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                + "<GetCallerIdentityResult><Arn>&x;</Arn><UserId>u</UserId><Account>1</Account>"
                + "</GetCallerIdentityResult></GetCallerIdentityResponse>")));
        assertThatThrownBy(() -> verifier().verify(proof().encode()).block())
                .hasMessageContaining("not well-formed XML");
    }

    @Test
    void answerWithTwoArnsIsRefused() {
        sts.stubFor(post("/").willReturn(okForContentType("text/xml",
                FakeSts.identityXml(FakeSts.CALLER_ARN).replace("<UserId>", "<Arn>x</Arn><UserId>"))));
        assertThatThrownBy(() -> verifier().verify(proof().encode()).block())
                .hasMessageContaining("2 Arn elements (expected: exactly 1)");
    }

    @Test
    void accountOutsideTheAllowListIsRejected() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        CallerIdentityVerifier verifier = verifier(CLOCK, new EcsCheckProperties("", false, true, false, ""), List.of("444455556666"));
        assertThatThrownBy(() -> verifier.verify(proof().encode()).block())
                .hasMessageContaining("account 111122223333 is not allowed");
    }

    @Test
    void roleOutsideTheAllowListIsRejected() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        EcsCheckProperties noEcs = new EcsCheckProperties("", false, true, false, "");
        assertThatThrownBy(() -> verifier(CLOCK, noEcs, List.of(), List.of("arn:aws:iam::111122223333:role/other"))
                        .verify(proof().encode()).block())
                .hasMessageContaining("role " + FakeSts.ROLE_ARN + " is not allowed");
        assertThat(verifier(CLOCK, noEcs, List.of(FakeSts.ACCOUNT), List.of(FakeSts.ROLE_ARN))
                        .verify(proof().encode()).block().roleArn())
                .isEqualTo(FakeSts.ROLE_ARN);
    }

    @Test
    void ecsConfirmsARunningExternalTask() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        EcsStubs.describeTasks(sts, "EXTERNAL", "RUNNING");
        EcsStubs.describeContainerInstances(sts, "mi-0123456789abcdef0");
        IamIdentity identity = verifier(CLOCK, new EcsCheckProperties("edge", true, true, false, ""), List.of(FakeSts.ACCOUNT))
                .verify(proof().encode()).block();
        assertThat(identity.taskArn()).endsWith("/" + FakeSts.TASK_ID);
        // asked with the ingress's own credentials, for the configured cluster and the session's task
        sts.verify(1, postRequestedFor(urlEqualTo("/"))
                .withHeader("X-Amz-Target", equalTo("AmazonEC2ContainerServiceV20141113.DescribeTasks"))
                .withHeader("Authorization", containing("Credential=AKIAINGRESSOWNROLE01/"))
                .withRequestBody(matchingJsonPath("$.cluster", equalTo("edge")))
                .withRequestBody(matchingJsonPath("$.tasks[0]", equalTo(FakeSts.TASK_ID))));
    }

    @Test
    void ecsRejectsATaskThatIsNotExternal() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        EcsStubs.describeTasks(sts, "FARGATE", "RUNNING");
        assertThatThrownBy(() -> verifier(CLOCK, new EcsCheckProperties("edge", true, false, false, ""), List.of(FakeSts.ACCOUNT))
                        .verify(proof().encode()).block())
                .isInstanceOfSatisfying(IdentityRejection.class,
                        e -> assertThat(e.reason()).isEqualTo(RejectReason.IDENTITY_UNVERIFIED))
                .hasMessageContaining("ecs: task " + FakeSts.TASK_ID + " launch type FARGATE (expected: EXTERNAL)");
    }

    @Test
    void ecsRejectsARoleSessionThatIsNoTaskOfTheCluster() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        EcsStubs.noSuchTask(sts);
        assertThatThrownBy(() -> verifier(CLOCK, new EcsCheckProperties("edge", true, false, false, ""), List.of(FakeSts.ACCOUNT))
                        .verify(proof().encode()).block())
                .isInstanceOfSatisfying(IdentityRejection.class,
                        e -> assertThat(e.reason()).isEqualTo(RejectReason.IDENTITY_UNVERIFIED))
                .hasMessageContaining("ecs: task " + FakeSts.TASK_ID + " not found in cluster edge");
    }

    @Test
    void ecsRejectsAStoppedTask() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        EcsStubs.describeTasks(sts, "EXTERNAL", "STOPPED");
        assertThatThrownBy(() -> verifier(CLOCK, new EcsCheckProperties("edge", true, false, false, ""), List.of(FakeSts.ACCOUNT))
                        .verify(proof().encode()).block())
                .hasMessageContaining("ecs: task " + FakeSts.TASK_ID + " status STOPPED (expected: RUNNING)");
    }

    @Test
    void ecsRejectsAnEc2InstanceWhenManagedInstanceIsRequired() {
        FakeSts.install(sts, FakeSts.CALLER_ARN);
        EcsStubs.describeTasks(sts, "EXTERNAL", "RUNNING");
        EcsStubs.describeContainerInstances(sts, "i-0123456789abcdef0");
        assertThatThrownBy(() -> verifier(CLOCK, new EcsCheckProperties("edge", true, true, false, ""), List.of(FakeSts.ACCOUNT))
                        .verify(proof().encode()).block())
                .hasMessageContaining("runs on i-0123456789abcdef0");
    }
}
