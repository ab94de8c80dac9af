package io.edgetunnel.ingress.deploy;

import java.util.Objects;

/**
 * What this replica learns about its own ECS task from the task metadata endpoint v4
 * ({@code ${ECS_CONTAINER_METADATA_URI_V4}/task}).
 *
 * @param taskArn the task's ARN ({@code TaskARN})
 * @param cluster the cluster's short name or ARN, as the endpoint gives it ({@code Cluster}); either
 *     form is accepted by {@code ecs:DescribeTasks}
 * @param privateIpv4 the task's private IPv4 address (the first {@code IPv4Addresses} entry of the
 *     first {@code awsvpc} container network: the task's ENI, as on Fargate); empty in bridge or host
 *     network mode, where the address to advertise is the host's
 */
public record TaskMetadata(String taskArn, String cluster, String privateIpv4) {

    public TaskMetadata {
        Objects.requireNonNull(taskArn, "taskArn");
        Objects.requireNonNull(cluster, "cluster");
        privateIpv4 = privateIpv4 == null ? "" : privateIpv4;
        if (taskArn.isBlank()) {
            throw new IllegalArgumentException("taskArn: blank (expected: arn:aws:ecs:REGION:ACCOUNT:task/...)");
        }
        if (cluster.isBlank()) {
            throw new IllegalArgumentException("cluster: blank (expected: a cluster name or ARN)");
        }
    }
}
