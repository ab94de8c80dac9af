package io.edgetunnel.ingress.security.iam;

import io.edgetunnel.protocol.RejectReason;
import java.util.Objects;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ContainerInstance;
import software.amazon.awssdk.services.ecs.model.Task;

/**
 * Confirms with {@code ecs:DescribeTasks} (the ingress's own role) that an IAM identity is a
 * RUNNING task with launch type EXTERNAL in the configured cluster, whose id is the role session
 * name; optionally that it runs on an SSM managed instance ({@code mi-…}). Blocking.
 */
public final class EcsTaskVerifier {

    private final EcsCheckProperties properties;
    private final Supplier<EcsClient> ecs;

    public EcsTaskVerifier(EcsCheckProperties properties, Supplier<EcsClient> ecs) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.ecs = Objects.requireNonNull(ecs, "ecs");
    }

    IamIdentity confirm(IamIdentity identity) {
        String taskId = identity.sessionName();
        if (!taskId.matches("[A-Za-z0-9-]{1,64}")) {
            throw reject("role session " + taskId + " is not a task id (expected: an ECS task role session)");
        }
        String cluster = properties.cluster();
        Task task;
        try {
            task = ecs.get().describeTasks(r -> r.cluster(cluster).tasks(taskId)).tasks().stream()
                    .filter(t -> t.taskArn() != null && t.taskArn().endsWith("/" + taskId))
                    .findFirst()
                    .orElseThrow(() -> reject("task " + taskId + " not found in cluster " + cluster
                            + " (expected: the agent's task, whose id is its role session name)"));
        } catch (SdkException e) {
            throw reject("ecs:DescribeTasks failed: " + describe(e));
        }
        if (!"EXTERNAL".equals(task.launchTypeAsString())) {
            throw reject("task " + taskId + " launch type " + task.launchTypeAsString() + " (expected: EXTERNAL)");
        }
        if (!"RUNNING".equals(task.lastStatus())) {
            throw reject("task " + taskId + " status " + task.lastStatus() + " (expected: RUNNING)");
        }
        if (!identity.account().equals(accountOf(task.taskArn()))) {
            throw reject("task " + taskId + " is in account " + accountOf(task.taskArn()) + " (expected: "
                    + identity.account() + ", the caller's)");
        }
        if (properties.requireManagedInstance()) {
            ContainerInstance instance;
            try {
                instance = ecs.get().describeContainerInstances(
                                r -> r.cluster(cluster).containerInstances(task.containerInstanceArn()))
                        .containerInstances().stream()
                        .findFirst()
                        .orElseThrow(() -> reject("container instance of task " + taskId + " not found"));
            } catch (SdkException e) {
                throw reject("ecs:DescribeContainerInstances failed: " + describe(e));
            }
            String id = instance.ec2InstanceId() == null ? "" : instance.ec2InstanceId();
            if (!id.startsWith("mi-") || !"ACTIVE".equals(instance.status())) {
                throw reject("task " + taskId + " runs on " + id + " (" + instance.status()
                        + ") (expected: an ACTIVE SSM managed instance mi-…)");
            }
        }
        return identity.withTask(task.taskArn());
    }

    private static String accountOf(String arn) {
        String[] parts = arn.split(":", 6);
        return parts.length == 6 ? parts[4] : "";
    }

    private static String describe(SdkException e) {
        if (e instanceof AwsServiceException service && service.awsErrorDetails() != null) {
            return service.awsErrorDetails().errorCode() + " (HTTP " + service.statusCode() + ")";
        }
        return e.getClass().getSimpleName();
    }

    private static IdentityRejection reject(String message) {
        return new IdentityRejection(RejectReason.IDENTITY_UNVERIFIED, "ecs: " + message);
    }
}
