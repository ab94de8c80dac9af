package io.edgetunnel.agent.identity;

import java.util.Objects;

/**
 * The fields of the task metadata v4 {@code /task} answer the self-check uses.
 *
 * @param launchType empty when the ECS agent is too old to report it (before 1.45.0)
 */
public record TaskMetadata(String cluster, String taskArn, String launchType, String family, String knownStatus) {

    public TaskMetadata {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(taskArn, "taskArn");
        launchType = launchType == null ? "" : launchType;
        family = family == null ? "" : family;
        knownStatus = knownStatus == null ? "" : knownStatus;
    }

    /** The task id: the last segment of the task ARN; also the task role's session name. */
    public String taskId() {
        return taskArn.substring(taskArn.lastIndexOf('/') + 1);
    }
}
