package io.edgetunnel.agent.identity;

import io.edgetunnel.agent.aws.AwsClients;
import io.edgetunnel.agent.identity.IdentityCheckException.Check;
import java.util.List;
import java.util.Objects;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ecs.model.ContainerInstance;
import software.amazon.awssdk.services.ecs.model.DescribeContainerInstancesResponse;
import software.amazon.awssdk.services.ecs.model.DescribeTasksResponse;
import software.amazon.awssdk.services.ecs.model.Failure;
import software.amazon.awssdk.services.ecs.model.Task;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;

/**
 * The ECS Anywhere self-check: task metadata v4, then {@code sts:GetCallerIdentity}, {@code
 * ecs:DescribeTasks} and {@code ecs:DescribeContainerInstances}. It catches misconfiguration (wrong
 * cluster, not on an external instance, no task role); it proves nothing to the ingress, which
 * verifies agents itself (IAM proof).
 *
 * <p>Blocking: run it on {@code Schedulers.boundedElastic()}.
 */
final class EcsIdentityCheck {

    private final IdentityProperties properties;
    private final TaskMetadataClient metadata;
    private final AwsClients aws;

    EcsIdentityCheck(IdentityProperties properties, TaskMetadataClient metadata, AwsClients aws) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.aws = Objects.requireNonNull(aws, "aws");
    }

    AgentIdentity run() {
        if (properties.cluster().isEmpty()) {
            throw new IdentityCheckException(Check.CONFIGURATION, "agent.identity.cluster: empty "
                    + "(expected: the ECS cluster this agent must run in, name or ARN)");
        }
        if (properties.metadataUri() == null) {
            throw new IdentityCheckException(Check.CONFIGURATION, "no task metadata URI (expected: env "
                    + "ECS_CONTAINER_METADATA_URI_V4, set by the ECS agent, or agent.identity.metadata-uri)");
        }
        String expectedCluster = clusterName(properties.cluster());

        // 1. task metadata
        TaskMetadata task = metadata.task(properties.metadataUri());
        if (!clusterName(task.cluster()).equals(expectedCluster)) {
            throw new IdentityCheckException(Check.TASK_METADATA, "cluster: " + task.cluster()
                    + " (expected: " + properties.cluster() + ")");
        }
        if (!task.launchType().isEmpty() && !"EXTERNAL".equals(task.launchType())) {
            throw new IdentityCheckException(Check.TASK_METADATA, "launch type: " + task.launchType()
                    + " (expected: EXTERNAL, an ECS Anywhere instance)");
        }
        String taskAccount = arnAccount(task.taskArn());

        // 2. who signs our AWS calls
        GetCallerIdentityResponse caller;
        try {
            caller = aws.sts().getCallerIdentity();
        } catch (SdkException e) {
            throw new IdentityCheckException(Check.CALLER_IDENTITY, "sts:GetCallerIdentity failed: "
                    + describe(e) + " (expected: task role credentials)");
        }
        String arn = caller.arn() == null ? "" : caller.arn();
        String[] assumed = assumedRole(arn);
        if (assumed == null) {
            throw new IdentityCheckException(Check.CALLER_IDENTITY, "caller: " + arn
                    + " (expected: arn:aws:sts::ACCOUNT:assumed-role/ROLE/" + task.taskId() + ", the task role)");
        }
        if (!assumed[2].equals(task.taskId())) {
            throw new IdentityCheckException(Check.CALLER_IDENTITY, "role session: " + assumed[2]
                    + " (expected: the task id " + task.taskId() + "; credentials are not this task's role)");
        }
        if (!taskAccount.isEmpty() && !taskAccount.equals(caller.account())) {
            throw new IdentityCheckException(Check.CALLER_IDENTITY, "account: " + caller.account()
                    + " (expected: " + taskAccount + ", the task's account)");
        }
        String roleArn = "arn:" + assumed[0] + ":iam::" + caller.account() + ":role/" + assumed[1];

        // 3. ECS's view of the task
        DescribeTasksResponse described;
        try {
            described = aws.ecs().describeTasks(r -> r.cluster(properties.cluster()).tasks(task.taskArn()));
        } catch (SdkException e) {
            throw new IdentityCheckException(Check.DESCRIBE_TASKS, "ecs:DescribeTasks in cluster "
                    + properties.cluster() + " failed: " + describe(e) + " (expected: the task)");
        }
        Task ecsTask = described.tasks().stream()
                .filter(t -> task.taskArn().equals(t.taskArn()))
                .findFirst()
                .orElseThrow(() -> new IdentityCheckException(Check.DESCRIBE_TASKS, "task " + task.taskArn()
                        + " not found in cluster " + properties.cluster() + failures(described.failures())
                        + " (expected: this task)"));
        if (ecsTask.clusterArn() == null || !clusterName(ecsTask.clusterArn()).equals(expectedCluster)) {
            throw new IdentityCheckException(Check.DESCRIBE_TASKS, "cluster: " + ecsTask.clusterArn()
                    + " (expected: " + properties.cluster() + ")");
        }
        if (!"EXTERNAL".equals(ecsTask.launchTypeAsString())) {
            throw new IdentityCheckException(Check.DESCRIBE_TASKS, "launch type: " + ecsTask.launchTypeAsString()
                    + " (expected: EXTERNAL, an ECS Anywhere instance)");
        }
        if (!"RUNNING".equals(ecsTask.lastStatus())) {
            throw new IdentityCheckException(Check.DESCRIBE_TASKS, "last status: " + ecsTask.lastStatus()
                    + " (expected: RUNNING)");
        }
        if (ecsTask.containerInstanceArn() == null) {
            throw new IdentityCheckException(Check.DESCRIBE_TASKS,
                    "no container instance (expected: the external instance the task runs on)");
        }

        // 4. the instance: an SSM managed instance, registered and connected
        DescribeContainerInstancesResponse instances;
        try {
            instances = aws.ecs().describeContainerInstances(
                    r -> r.cluster(properties.cluster()).containerInstances(ecsTask.containerInstanceArn()));
        } catch (SdkException e) {
            throw new IdentityCheckException(Check.CONTAINER_INSTANCE, "ecs:DescribeContainerInstances failed: "
                    + describe(e) + " (expected: " + ecsTask.containerInstanceArn() + ")");
        }
        ContainerInstance instance = instances.containerInstances().stream()
                .filter(i -> ecsTask.containerInstanceArn().equals(i.containerInstanceArn()))
                .findFirst()
                .orElseThrow(() -> new IdentityCheckException(Check.CONTAINER_INSTANCE, "container instance "
                        + ecsTask.containerInstanceArn() + " not found" + failures(instances.failures())
                        + " (expected: the task's instance)"));
        String managedId = instance.ec2InstanceId() == null ? "" : instance.ec2InstanceId();
        if (!managedId.startsWith("mi-")) {
            throw new IdentityCheckException(Check.CONTAINER_INSTANCE, "instance id: " + managedId
                    + " (expected: an SSM managed instance id mi-…, an ECS Anywhere host)");
        }
        if (instance.attributes().stream().noneMatch(a -> "ecs.capability.external".equals(a.name()))) {
            throw new IdentityCheckException(Check.CONTAINER_INSTANCE, "instance attributes lack "
                    + "ecs.capability.external (expected: an external instance registered with ECS Anywhere)");
        }
        if (!"ACTIVE".equals(instance.status())) {
            throw new IdentityCheckException(Check.CONTAINER_INSTANCE, "instance status: " + instance.status()
                    + " (expected: ACTIVE)");
        }
        if (!Boolean.TRUE.equals(instance.agentConnected())) {
            throw new IdentityCheckException(Check.CONTAINER_INSTANCE, "agent connected: "
                    + instance.agentConnected() + " (expected: true)");
        }
        return new AgentIdentity(caller.account(), roleArn, task.taskArn(), ecsTask.clusterArn(), managedId);
    }

    /** {@code arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION} → {partition, role, session}. */
    static String[] assumedRole(String arn) {
        String[] parts = arn.split(":", 6);
        if (parts.length != 6 || !"arn".equals(parts[0]) || !"sts".equals(parts[2])) {
            return null;
        }
        String[] resource = parts[5].split("/");
        if (resource.length != 3 || !"assumed-role".equals(resource[0])
                || resource[1].isEmpty() || resource[2].isEmpty()) {
            return null;
        }
        return new String[] {parts[1], resource[1], resource[2]};
    }

    /** {@code edge}, {@code arn:aws:ecs:r:a:cluster/edge} → {@code edge}. */
    static String clusterName(String cluster) {
        int slash = cluster.lastIndexOf('/');
        return cluster.startsWith("arn:") && slash >= 0 ? cluster.substring(slash + 1) : cluster;
    }

    private static String arnAccount(String arn) {
        String[] parts = arn.split(":", 6);
        return parts.length == 6 ? parts[4] : "";
    }

    private static String failures(List<Failure> failures) {
        if (failures == null || failures.isEmpty()) {
            return "";
        }
        Failure f = failures.get(0);
        return " (ECS: " + f.reason() + (f.detail() == null ? "" : ", " + f.detail()) + ")";
    }

    /** Error code and status only: AWS messages are safe, but stay short and never echo a request. */
    static String describe(SdkException e) {
        if (e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException service
                && service.awsErrorDetails() != null) {
            return service.awsErrorDetails().errorCode() + " (HTTP " + service.statusCode() + ")";
        }
        return e.getClass().getSimpleName();
    }
}
