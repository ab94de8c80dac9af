package io.edgetunnel.ingress.security.iam;

import io.edgetunnel.protocol.RejectReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.ContainerInstance;
import software.amazon.awssdk.services.ecs.model.Task;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ResourceTypeForTagging;
import software.amazon.awssdk.services.ssm.model.Tag;

/**
 * Confirms with the ingress's own role that an IAM identity is a RUNNING task with launch type
 * EXTERNAL in the configured cluster, whose id is the role session name ({@code ecs:DescribeTasks}),
 * whose own task role is the role STS named ({@code ecs:DescribeTaskDefinition}), and, as
 * configured, that it runs on an ACTIVE SSM managed instance ({@code mi-…}, {@code
 * ecs:DescribeContainerInstances}) and which hosts that instance may serve: its SSM managed-instance
 * tags ({@code ssm:ListTagsForResource}). Not its ECS attributes: the host itself sets those when it
 * registers. Blocking.
 *
 * <p>Each link, and the AWS documentation it rests on, is in docs/security.md ("One identity per
 * host").
 */
public final class EcsTaskVerifier {

    private static final int MAX_CACHED_ROLES = 256;

    private final EcsCheckProperties properties;
    private final Supplier<EcsClient> ecs;
    private final Supplier<SsmClient> ssm;
    /** Task definition ARN (a revision, immutable) → its task role ARN ("" for none). */
    private final Map<String, String> taskDefinitionRoles = new ConcurrentHashMap<>();

    public EcsTaskVerifier(EcsCheckProperties properties, Supplier<EcsClient> ecs, Supplier<SsmClient> ssm) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.ecs = Objects.requireNonNull(ecs, "ecs");
        this.ssm = Objects.requireNonNull(ssm, "ssm");
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
        if (properties.bindTaskRole()) {
            String taskRole = taskRole(task);
            if (!sameRole(taskRole, identity)) {
                throw reject("task " + taskId + " runs with role " + (taskRole.isEmpty() ? "none" : taskRole)
                        + ", not " + identity.roleArn() + " (expected: the task's own role; a session named "
                        + "after another role's task)");
            }
        }
        IamIdentity confirmed = identity.withTask(task.taskArn());
        if (!properties.requireManagedInstance() && !properties.perHostClaims()) {
            return confirmed;
        }
        ContainerInstance instance = instanceOf(task, taskId, cluster);
        String id = instance.ec2InstanceId() == null ? "" : instance.ec2InstanceId();
        boolean managed = id.startsWith("mi-") && "ACTIVE".equals(instance.status());
        if ((properties.requireManagedInstance() || properties.perHostClaims()) && !managed) {
            throw reject("task " + taskId + " runs on " + id + " (" + instance.status()
                    + ") (expected: an ACTIVE SSM managed instance mi-…)");
        }
        Optional<List<HostGrant>> grants = properties.perHostClaims() ? Optional.of(grants(id)) : Optional.empty();
        return confirmed.withInstance(id.isEmpty() ? String.valueOf(instance.containerInstanceArn()) : id, grants);
    }

    private ContainerInstance instanceOf(Task task, String taskId, String cluster) {
        try {
            return ecs.get().describeContainerInstances(
                            r -> r.cluster(cluster).containerInstances(task.containerInstanceArn()))
                    .containerInstances().stream()
                    .findFirst()
                    .orElseThrow(() -> reject("container instance of task " + taskId + " not found"));
        } catch (SdkException e) {
            throw reject("ecs:DescribeContainerInstances failed: " + describe(e));
        }
    }

    /**
     * The hosts in the managed instance's tags NAME, NAME.2, NAME.3, …: space-separated grants. The
     * id comes from ECS ({@code ec2InstanceId}, the SSM managed instance the container instance
     * registered as); the tags from SSM, where only an operator (an activation's tags, or {@code
     * ssm:AddTagsToResource}) can put them.
     */
    private List<HostGrant> grants(String instanceId) {
        String name = properties.hostsTag();
        List<Tag> tags;
        try {
            tags = ssm.get().listTagsForResource(r -> r.resourceType(ResourceTypeForTagging.MANAGED_INSTANCE)
                    .resourceId(instanceId)).tagList();
        } catch (SdkException e) {
            throw reject("ssm:ListTagsForResource of " + instanceId + " failed: " + describe(e));
        }
        List<HostGrant> grants = new ArrayList<>();
        for (Tag tag : tags) {
            if (tag.key() == null || tag.value() == null || !(tag.key().equals(name)
                    || tag.key().matches(java.util.regex.Pattern.quote(name) + "\\.[0-9]{1,2}"))) {
                continue;
            }
            for (String token : tag.value().trim().split(" +")) {
                grants.add(HostGrant.parse(token).orElseThrow(() -> reject("instance " + instanceId + " tag "
                        + tag.key() + " has " + clip(token) + ", not a host (expected: space-separated hosts, "
                        + "host/path or .suffix for every host below suffix)")));
            }
        }
        if (grants.isEmpty()) {
            throw new IdentityRejection(RejectReason.HOST_NOT_ALLOWED, "ecs: instance " + instanceId + " has no "
                    + name + " tag (expected: the hosts this instance serves, as an SSM tag of the managed instance: "
                    + "the activation's --tags, or aws ssm add-tags-to-resource)");
        }
        return grants;
    }

    /** The task's role: its override, else its task definition's (revisions are immutable: cached). */
    private String taskRole(Task task) {
        if (task.overrides() != null && task.overrides().taskRoleArn() != null) {
            return task.overrides().taskRoleArn();
        }
        String definition = task.taskDefinitionArn();
        if (definition == null) {
            return "";
        }
        String cached = taskDefinitionRoles.get(definition);
        if (cached != null) {
            return cached;
        }
        String role;
        try {
            role = Objects.requireNonNullElse(ecs.get().describeTaskDefinition(r -> r.taskDefinition(definition))
                    .taskDefinition().taskRoleArn(), "");
        } catch (SdkException e) {
            throw reject("ecs:DescribeTaskDefinition failed: " + describe(e));
        }
        if (taskDefinitionRoles.size() >= MAX_CACHED_ROLES) {
            taskDefinitionRoles.clear();
        }
        taskDefinitionRoles.put(definition, role);
        return role;
    }

    /**
     * STS names the role without its IAM path ({@code assumed-role/NAME/SESSION}); the task's role ARN
     * may carry one ({@code role/path/NAME}). Same account and same name is the same role: role names
     * are unique in an account whatever the path.
     */
    static boolean sameRole(String taskRoleArn, IamIdentity identity) {
        String[] parts = taskRoleArn.split(":", 6);
        if (parts.length != 6 || !parts[5].startsWith("role/")) {
            return false;
        }
        String name = parts[5].substring(parts[5].lastIndexOf('/') + 1);
        return parts[4].equals(identity.account()) && identity.roleArn().endsWith(":role/" + name);
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

    private static String clip(String value) {
        String printable = value.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 80 ? printable : printable.substring(0, 80) + "…";
    }

    private static IdentityRejection reject(String message) {
        return new IdentityRejection(RejectReason.IDENTITY_UNVERIFIED, "ecs: " + message);
    }
}
