package io.edgetunnel.agent.identity;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static io.edgetunnel.agent.aws.AwsStubs.CALLER_ARN;
import static io.edgetunnel.agent.aws.AwsStubs.CLUSTER;
import static io.edgetunnel.agent.aws.AwsStubs.CLUSTER_ARN;
import static io.edgetunnel.agent.aws.AwsStubs.ROLE;
import static io.edgetunnel.agent.aws.AwsStubs.TASK_ARN;
import static io.edgetunnel.agent.aws.AwsStubs.TASK_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.agent.aws.AwsClients;
import io.edgetunnel.agent.aws.AwsStubs;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** The ECS Anywhere self-check, through the real SDK clients against WireMock. */
@ExtendWith(OutputCaptureExtension.class)
class IdentitySelfCheckTests {

    @RegisterExtension
    static WireMockExtension wm = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private AwsClients clients;

    @AfterEach
    void close() {
        if (clients != null) {
            clients.close();
        }
    }

    private IdentityProperties properties(IdentityMode mode, String cluster) {
        return new IdentityProperties(mode, cluster, URI.create(wm.baseUrl() + "/v4/meta"), Duration.ofSeconds(60), null);
    }

    private IdentitySelfCheck check(IdentityMode mode) {
        clients = AwsStubs.clients(wm);
        return new IdentitySelfCheck(properties(mode, CLUSTER), () -> clients);
    }

    private static void allGood() {
        AwsStubs.metadata(wm, CLUSTER_ARN, "EXTERNAL");
        AwsStubs.callerIdentity(wm, CALLER_ARN);
        AwsStubs.describeTasks(wm, "EXTERNAL", "RUNNING");
        AwsStubs.describeContainerInstances(wm, "mi-0123456789abcdef0", "ACTIVE", true);
    }

    private String failure(IdentityMode mode) {
        return assertThatThrownBy(() -> check(mode).checkAtStartup())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("agent.identity.mode=verify")
                .actual()
                .getMessage();
    }

    @Test
    void verifiesAnEcsAnywhereTask() {
        allGood();
        IdentityStatus status = check(IdentityMode.VERIFY).checkAtStartup();
        assertThat(status.verified()).isTrue();
        AgentIdentity identity = status.identity().orElseThrow();
        assertThat(identity.roleArn()).isEqualTo("arn:aws:iam::111122223333:role/" + ROLE);
        assertThat(identity.taskArn()).isEqualTo(TASK_ARN);
        assertThat(identity.managedInstanceId()).isEqualTo("mi-0123456789abcdef0");
        assertThat(status.helloAttributes()).containsEntry(IdentityStatus.VERIFIED_ATTRIBUTE, "true")
                .containsEntry(IdentityStatus.MODE_ATTRIBUTE, "verify")
                .containsEntry(IdentityStatus.INSTANCE_ATTRIBUTE, "mi-0123456789abcdef0");
    }

    @Test
    void acceptsMetadataWithoutLaunchTypeFromOlderEcsAgents() {
        allGood();
        AwsStubs.metadata(wm, CLUSTER, null);
        assertThat(check(IdentityMode.VERIFY).checkAtStartup().verified()).isTrue();
    }

    @Test
    void failsWhenNoClusterIsConfigured() {
        clients = AwsStubs.clients(wm);
        IdentitySelfCheck check = new IdentitySelfCheck(properties(IdentityMode.VERIFY, ""), () -> clients);
        assertThatThrownBy(check::checkAtStartup).hasMessageContaining("configuration: agent.identity.cluster: empty");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void failsWhenMetadataEndpointAnswersAnError() {
        assertThat(failure(IdentityMode.VERIFY)).contains("task-metadata:").contains("answered 404 (expected: 200)");
    }

    @Test
    void failsWhenMetadataNamesAnotherCluster() {
        allGood();
        AwsStubs.metadata(wm, "arn:aws:ecs:eu-west-1:111122223333:cluster/other", "EXTERNAL");
        assertThat(failure(IdentityMode.VERIFY)).contains("task-metadata: cluster: arn:aws:ecs:eu-west-1:111122223333:"
                + "cluster/other (expected: edge)");
    }

    @Test
    void failsWhenMetadataReportsFargate() {
        allGood();
        AwsStubs.metadata(wm, CLUSTER, "FARGATE");
        assertThat(failure(IdentityMode.VERIFY)).contains("task-metadata: launch type: FARGATE (expected: EXTERNAL");
    }

    @Test
    void failsWhenCredentialsAreNotAnAssumedRole() {
        allGood();
        AwsStubs.callerIdentity(wm, "arn:aws:iam::111122223333:user/alice");
        assertThat(failure(IdentityMode.VERIFY)).contains("caller-identity: caller: arn:aws:iam::111122223333:user/alice "
                + "(expected: arn:aws:sts::ACCOUNT:assumed-role/ROLE/" + TASK_ID);
    }

    @Test
    void failsWhenRoleSessionIsNotThisTask() {
        allGood();
        AwsStubs.callerIdentity(wm, "arn:aws:sts::111122223333:assumed-role/" + ROLE + "/i-0abc");
        assertThat(failure(IdentityMode.VERIFY)).contains("caller-identity: role session: i-0abc (expected: the task id "
                + TASK_ID);
    }

    @Test
    void failsWhenClusterDoesNotExist() {
        allGood();
        AwsStubs.ecsError(wm, "DescribeTasks", "ClusterNotFoundException", "Cluster not found.");
        assertThat(failure(IdentityMode.VERIFY)).contains("describe-tasks: ecs:DescribeTasks in cluster edge failed: "
                + "ClusterNotFoundException (HTTP 400)");
    }

    @Test
    void failsWhenTaskIsUnknownToEcs() {
        allGood();
        AwsStubs.ecs(wm, "DescribeTasks", "{\"tasks\":[],\"failures\":[{\"arn\":\"" + TASK_ARN + "\",\"reason\":\"MISSING\"}]}");
        assertThat(failure(IdentityMode.VERIFY)).contains("describe-tasks: task " + TASK_ARN + " not found in cluster edge "
                + "(ECS: MISSING)");
    }

    @Test
    void failsWhenTaskIsNotExternal() {
        allGood();
        AwsStubs.describeTasks(wm, "EC2", "RUNNING");
        assertThat(failure(IdentityMode.VERIFY)).contains("describe-tasks: launch type: EC2 (expected: EXTERNAL");
    }

    @Test
    void failsWhenTaskIsNotRunning() {
        allGood();
        AwsStubs.describeTasks(wm, "EXTERNAL", "DEACTIVATING");
        assertThat(failure(IdentityMode.VERIFY)).contains("describe-tasks: last status: DEACTIVATING (expected: RUNNING)");
    }

    @Test
    void failsWhenInstanceIsAnEc2Instance() {
        allGood();
        AwsStubs.describeContainerInstances(wm, "i-0123456789abcdef0", "ACTIVE", true);
        assertThat(failure(IdentityMode.VERIFY)).contains("container-instance: instance id: i-0123456789abcdef0 "
                + "(expected: an SSM managed instance id mi-");
    }

    @Test
    void failsWhenInstanceIsNotRegisteredAsExternal() {
        allGood();
        AwsStubs.ecs(wm, "DescribeContainerInstances", """
                {"containerInstances":[{"containerInstanceArn":"%s","ec2InstanceId":"mi-0123456789abcdef0",
                  "status":"ACTIVE","agentConnected":true,"attributes":[{"name":"ecs.capability.docker-remote-api.1.44"}]}],
                 "failures":[]}""".formatted(AwsStubs.INSTANCE_ARN));
        assertThat(failure(IdentityMode.VERIFY)).contains("container-instance: instance attributes lack "
                + "ecs.capability.external");
    }

    @Test
    void failsWhenInstanceIsDraining() {
        allGood();
        AwsStubs.describeContainerInstances(wm, "mi-0123456789abcdef0", "DRAINING", true);
        assertThat(failure(IdentityMode.VERIFY)).contains("container-instance: instance status: DRAINING (expected: ACTIVE)");
    }

    @Test
    void failsWhenEcsAgentIsDisconnected() {
        allGood();
        AwsStubs.describeContainerInstances(wm, "mi-0123456789abcdef0", "ACTIVE", false);
        assertThat(failure(IdentityMode.VERIFY)).contains("container-instance: agent connected: false (expected: true)");
    }

    @Test
    void warnModeLogsAndContinuesUnverified(CapturedOutput output) {
        allGood();
        AwsStubs.describeTasks(wm, "EC2", "RUNNING");
        IdentityStatus status = check(IdentityMode.WARN).checkAtStartup();
        assertThat(status.verified()).isFalse();
        assertThat(status.problem()).contains("launch type: EC2");
        assertThat(status.helloAttributes()).containsEntry(IdentityStatus.VERIFIED_ATTRIBUTE, "false")
                .containsEntry(IdentityStatus.MODE_ATTRIBUTE, "warn")
                .doesNotContainKey(IdentityStatus.TASK_ATTRIBUTE);
        assertThat(output.getOut() + output.getErr()).contains("WARN").contains("continuing unverified");
    }

    @Test
    void offModeCallsNothingAndWarns(CapturedOutput output) {
        AtomicBoolean built = new AtomicBoolean();
        IdentitySelfCheck check = new IdentitySelfCheck(properties(IdentityMode.OFF, ""), () -> {
            built.set(true);
            return AwsStubs.clients(wm);
        });
        IdentityStatus status = check.checkAtStartup();
        assertThat(status.verified()).isFalse();
        assertThat(status.helloAttributes()).containsEntry(IdentityStatus.VERIFIED_ATTRIBUTE, "false")
                .containsEntry(IdentityStatus.MODE_ATTRIBUTE, "off");
        assertThat(built).isFalse();
        wm.verify(0, anyRequestedFor(anyUrl()));
        assertThat(output.getOut() + output.getErr()).contains("WARN").contains("self-check is off");
    }

    @Test
    void runsOffTheCallingThread() {
        allGood();
        String caller = Thread.currentThread().getName();
        clients = AwsStubs.clients(wm);
        IdentitySelfCheck check = new IdentitySelfCheck(properties(IdentityMode.VERIFY, CLUSTER), () -> {
            assertThat(Thread.currentThread().getName()).isNotEqualTo(caller).startsWith("boundedElastic");
            return clients;
        });
        assertThat(check.check().block().verified()).isTrue();
    }
}
