package io.edgetunnel.ingress.security.iam;

import java.util.Objects;

/**
 * Who STS says signed the proof.
 *
 * @param callerArn as STS returned it, {@code arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION}
 * @param roleArn the role, {@code arn:aws:iam::ACCOUNT:role/ROLE}: the principal policy matches on
 * @param sessionName for an ECS task role, the task id
 * @param taskArn set when {@code ecs:DescribeTasks} confirmed the task, else empty
 */
public record IamIdentity(String account, String callerArn, String roleArn, String sessionName, String taskArn) {

    public IamIdentity {
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(callerArn, "callerArn");
        Objects.requireNonNull(roleArn, "roleArn");
        Objects.requireNonNull(sessionName, "sessionName");
        taskArn = taskArn == null ? "" : taskArn;
    }

    IamIdentity withTask(String taskArn) {
        return new IamIdentity(account, callerArn, roleArn, sessionName, taskArn);
    }
}
