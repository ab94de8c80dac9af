package io.edgetunnel.ingress.security.iam;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.protocol.ConnectionNonce;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * What makes an IAM proof name one host and one connection: the connection nonce it must sign, the
 * allow-lists that refuse when empty, the task's own role bound to the proven role, and the hosts
 * its container instance's attribute grants. STS and ECS are WireMock stubs; STS recomputes SigV4.
 */
class IdentityPerHostTests {

    private static final String SERVER_ID = "ingress.example.com";
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-06T10:00:00Z"), ZoneOffset.UTC);

    @RegisterExtension
    static WireMockExtension aws = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private URI stsUrl;
    private IngressAwsClients clients;

    @BeforeEach
    void setUp() {
        stsUrl = URI.create(aws.baseUrl() + "/");
        FakeSts.install(aws, FakeSts.CALLER_ARN);
        clients = new IngressAwsClients(new IngressAwsProperties("eu-west-1", URI.create(aws.baseUrl()), null, null, null,
                Duration.ofSeconds(30), 1), StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIAINGRESSOWNROLE01", "ingress-own-secret-key")));
    }

    @AfterEach
    void close() {
        clients.close();
    }

    private CallerIdentityVerifier verifier(List<String> accounts, EcsCheckProperties ecs) {
        IamAuthProperties properties = new IamAuthProperties(SERVER_ID, stsUrl, Duration.ofMinutes(5),
                Duration.ofSeconds(30), accounts, List.of(), true);
        Optional<EcsTaskVerifier> tasks = ecs.enabled() ? Optional.of(new EcsTaskVerifier(ecs, clients::ecs, clients::ssm)) : Optional.empty();
        return new CallerIdentityVerifier(properties, stsUrl, CLOCK, tasks);
    }

    private CallerIdentityVerifier noEcs() {
        return verifier(List.of(FakeSts.ACCOUNT), new EcsCheckProperties("", false, true, true, ""));
    }

    private CallerIdentityVerifier perHost() {
        return verifier(List.of(FakeSts.ACCOUNT), new EcsCheckProperties("edge", true, true, true, "edge-tunnel.hosts"));
    }

    private String proof(String nonce) {
        ProofFixture fixture = new ProofFixture(stsUrl);
        fixture.clock = CLOCK;
        fixture.serverId = SERVER_ID;
        fixture.nonce = nonce;
        return fixture.encode();
    }

    private static void refused(Runnable call, RejectReason reason, String message) {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(IdentityRejection.class, e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageContaining(message);
    }

    @Test
    void aProofSigningThisConnectionsNonceIsAccepted() {
        String nonce = ConnectionNonce.next();
        IamIdentity identity = noEcs().verify(proof(nonce), nonce).block();
        assertThat(identity.roleArn()).isEqualTo(FakeSts.ROLE_ARN);
        aws.verify(1, postRequestedFor(urlEqualTo("/")).withHeader("X-Edge-Tunnel-Nonce", equalTo(nonce)));
    }

    @Test
    void aProofFromAnotherConnectionIsRefusedBeforeSts() {
        String captured = ConnectionNonce.next();
        refused(() -> noEcs().verify(proof(captured), ConnectionNonce.next()).block(), RejectReason.IDENTITY_UNVERIFIED,
                "signed nonce is not this connection's");
        refused(() -> noEcs().verify(proof(null), ConnectionNonce.next()).block(), RejectReason.IDENTITY_UNVERIFIED,
                "no connection nonce signed");
        // an ingress that issued none cannot be satisfied by a nonce the agent made up
        refused(() -> noEcs().verify(proof(captured), "").block(), RejectReason.IDENTITY_UNVERIFIED,
                "signed nonce is not this connection's");
        aws.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void emptyAllowListsRefuseEveryCaller() {
        String nonce = ConnectionNonce.next();
        refused(() -> verifier(List.of(), new EcsCheckProperties("", false, true, true, "")).verify(proof(nonce), nonce)
                .block(), RejectReason.IDENTITY_UNVERIFIED, "no account or role is allowed");
    }

    private static final String INSTANCE = "mi-0123456789abcdef0";

    /** The task on an ECS Anywhere host whose own ECS attributes claim a host: what root on it can set. */
    private void taskOnAHostThatClaimsForItself() {
        EcsStubs.describeTasks(aws, "EXTERNAL", "RUNNING");
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("ecs.capability.external", "true");
        attributes.put("edge-tunnel.hosts", "victim.example.com");
        EcsStubs.describeContainerInstances(aws, INSTANCE, attributes);
    }

    @Test
    void perHostClaimsReadTheManagedInstancesTagsNotItsOwnAttributes() {
        taskOnAHostThatClaimsForItself();
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("edge-tunnel.hosts", "app.example.com api.example.com/v1");
        tags.put("edge-tunnel.hosts.2", ".apps.example.com");
        tags.put("edge-tunnel.hostsx", "evil.example.com");
        EcsStubs.managedInstanceTags(aws, INSTANCE, tags);
        String nonce = ConnectionNonce.next();

        IamIdentity identity = perHost().verify(proof(nonce), nonce).block();

        assertThat(identity.instanceId()).isEqualTo(INSTANCE);
        assertThat(identity.principal()).isEqualTo(FakeSts.ROLE_ARN + "@" + INSTANCE);
        List<HostGrant> grants = identity.grants().orElseThrow();
        assertThat(grants).extracting(HostGrant::toString)
                .containsExactly("app.example.com", "api.example.com/v1", "*.apps.example.com");
        assertThat(covered(grants, "app.example.com", "/")).isTrue();
        assertThat(covered(grants, "api.example.com", "/v1")).isTrue();
        assertThat(covered(grants, "*.apps.example.com", "/")).isTrue();
        // only what is named: a longer prefix would take part of a host other hosts serve too
        assertThat(covered(grants, "app.example.com", "/login")).isFalse();
        assertThat(covered(grants, "api.example.com", "/v1/users")).isFalse();
        assertThat(covered(grants, "api.example.com", "/")).isFalse();
        assertThat(covered(grants, "shop.apps.example.com", "/")).isFalse();
        assertThat(covered(grants, "evil.example.com", "/")).isFalse();
        assertThat(covered(grants, "victim.example.com", "/")).isFalse();
    }

    private static boolean covered(List<HostGrant> grants, String host, String path) {
        return grants.stream().anyMatch(g -> g.covers(new RouteClaim(host, path)));
    }

    @Test
    void anInstanceWithoutTheTagMayClaimNothingWhateverItsAttributesSay() {
        taskOnAHostThatClaimsForItself();
        EcsStubs.managedInstanceTags(aws, INSTANCE, Map.of("Name", "home-pi"));
        String nonce = ConnectionNonce.next();
        refused(() -> perHost().verify(proof(nonce), nonce).block(), RejectReason.HOST_NOT_ALLOWED,
                "instance " + INSTANCE + " has no edge-tunnel.hosts tag");
    }

    @Test
    void aMalformedGrantIsRefusedNotIgnored() {
        taskOnAHostThatClaimsForItself();
        EcsStubs.managedInstanceTags(aws, INSTANCE, Map.of("edge-tunnel.hosts", "app.example.com bad@host"));
        String nonce = ConnectionNonce.next();
        refused(() -> perHost().verify(proof(nonce), nonce).block(), RejectReason.IDENTITY_UNVERIFIED,
                "has bad@host, not a host");
    }

    @Test
    void perHostClaimsNeedAnSsmManagedInstance() {
        EcsStubs.describeTasks(aws, "EXTERNAL", "RUNNING");
        EcsStubs.describeContainerInstances(aws, "i-0123456789abcdef0", Map.of());
        String nonce = ConnectionNonce.next();
        refused(() -> verifier(List.of(FakeSts.ACCOUNT), new EcsCheckProperties("edge", true, false, true,
                        "edge-tunnel.hosts")).verify(proof(nonce), nonce).block(), RejectReason.IDENTITY_UNVERIFIED,
                "runs on i-0123456789abcdef0");
    }

    @Test
    void aSessionNamedAfterAnotherRolesTaskIsRefused() {
        // STS says role edge-agent-task-role, session = the task id; the task itself runs another role
        EcsStubs.describeTasks(aws, "EXTERNAL", "RUNNING");
        EcsStubs.taskDefinitionRole(aws, "arn:aws:iam::111122223333:role/some-other-role");
        String nonce = ConnectionNonce.next();
        refused(() -> perHost().verify(proof(nonce), nonce).block(), RejectReason.IDENTITY_UNVERIFIED,
                "runs with role arn:aws:iam::111122223333:role/some-other-role, not " + FakeSts.ROLE_ARN);
    }

    @Test
    void theTasksRoleMayCarryAnIamPath() {
        IamIdentity sts = new IamIdentity(FakeSts.ACCOUNT, FakeSts.CALLER_ARN, FakeSts.ROLE_ARN, FakeSts.TASK_ID, "");
        assertThat(EcsTaskVerifier.sameRole("arn:aws:iam::111122223333:role/edge/" + FakeSts.ROLE, sts)).isTrue();
        assertThat(EcsTaskVerifier.sameRole("arn:aws:iam::444455556666:role/" + FakeSts.ROLE, sts)).isFalse();
        assertThat(EcsTaskVerifier.sameRole("arn:aws:iam::111122223333:role/x-" + FakeSts.ROLE, sts)).isFalse();
        assertThat(EcsTaskVerifier.sameRole("", sts)).isFalse();
    }

    @Test
    void grantsParseOnlyHostsAndPaths() {
        assertThat(HostGrant.parse("App.Example.com")).map(HostGrant::toString).contains("app.example.com");
        assertThat(HostGrant.parse(".example.com")).map(HostGrant::host).contains("*.example.com");
        assertThat(HostGrant.parse("api.example.com/V1/")).map(HostGrant::pathPrefix).contains("/V1");
        assertThat(HostGrant.parse("*")).isEmpty();
        assertThat(HostGrant.parse("..example.com")).isEmpty();
        assertThat(HostGrant.parse("a b")).isEmpty();
        assertThat(HostGrant.parse("")).isEmpty();
    }
}
