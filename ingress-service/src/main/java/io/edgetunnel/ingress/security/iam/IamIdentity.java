package io.edgetunnel.ingress.security.iam;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Who STS says signed the proof, and what ECS says about that task.
 *
 * @param callerArn as STS returned it, {@code arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION}
 * @param roleArn the role, {@code arn:aws:iam::ACCOUNT:role/ROLE}: the principal policy matches on
 * @param sessionName for an ECS task role, the task id
 * @param taskArn set when {@code ecs:DescribeTasks} confirmed the task, else empty
 * @param instanceId the task's container instance ({@code mi-…} for ECS Anywhere) when it was
 *     looked up, else empty
 * @param grants the hosts that instance may serve ({@code ingress.ecs.hosts-tag}); empty
 *     Optional when per-host claims are off, an empty list when the instance has none
 */
public record IamIdentity(String account, String callerArn, String roleArn, String sessionName, String taskArn,
        String instanceId, Optional<List<HostGrant>> grants) {

    public IamIdentity {
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(callerArn, "callerArn");
        Objects.requireNonNull(roleArn, "roleArn");
        Objects.requireNonNull(sessionName, "sessionName");
        taskArn = taskArn == null ? "" : taskArn;
        instanceId = instanceId == null ? "" : instanceId;
        grants = grants == null ? Optional.empty() : grants.map(List::copyOf);
    }

    public IamIdentity(String account, String callerArn, String roleArn, String sessionName, String taskArn) {
        this(account, callerArn, roleArn, sessionName, taskArn, "", Optional.empty());
    }

    /**
     * The identity tunnels are counted and listed under: the role, and with per-host claims the
     * instance too ({@code ROLE_ARN@mi-…}), so each host is its own identity.
     */
    public String principal() {
        return grants.isPresent() && !instanceId.isEmpty() ? roleArn + "@" + instanceId : roleArn;
    }

    IamIdentity withTask(String taskArn) {
        return new IamIdentity(account, callerArn, roleArn, sessionName, taskArn, instanceId, grants);
    }

    IamIdentity withInstance(String instanceId, Optional<List<HostGrant>> grants) {
        return new IamIdentity(account, callerArn, roleArn, sessionName, taskArn, instanceId, grants);
    }
}
