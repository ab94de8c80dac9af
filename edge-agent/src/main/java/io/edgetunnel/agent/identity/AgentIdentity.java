package io.edgetunnel.agent.identity;

import java.util.Objects;

/**
 * What the self-check proved about this agent.
 *
 * @param account AWS account of the task role
 * @param roleArn the task role, {@code arn:aws:iam::ACCOUNT:role/NAME}
 * @param taskArn this task
 * @param cluster the cluster ARN ECS reports for the task
 * @param managedInstanceId the SSM managed instance ({@code mi-…}) the task runs on
 */
public record AgentIdentity(String account, String roleArn, String taskArn, String cluster, String managedInstanceId) {

    public AgentIdentity {
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(roleArn, "roleArn");
        Objects.requireNonNull(taskArn, "taskArn");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(managedInstanceId, "managedInstanceId");
    }
}
