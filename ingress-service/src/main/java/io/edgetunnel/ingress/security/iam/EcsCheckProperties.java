package io.edgetunnel.ingress.security.iam;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code ecs:DescribeTasks} confirmation of IAM identities ({@code ingress.ecs.*}; env {@code
 * INGRESS_ECS_CLUSTER}, {@code INGRESS_ECS_HOSTS_TAG}). On when a cluster is set, unless {@code
 * verify-tasks=false}.
 *
 * @param cluster the cluster agents run in (name or ARN)
 * @param verifyTasks confirm each IAM identity is a RUNNING EXTERNAL task of that cluster whose id
 *     is the role session name; defaults to true when {@code cluster} is set
 * @param requireManagedInstance also require an ACTIVE SSM managed instance ({@code mi-…}), via
 *     {@code ecs:DescribeContainerInstances}
 * @param bindTaskRole require the task's own role (its override, else its task definition's, via
 *     {@code ecs:DescribeTaskDefinition}) to be the role STS named: without it, any role whose
 *     session is named after a running task's id would pass for that task
 * @param hostsTag when set, per-host claims: an agent may claim only the hosts its ECS Anywhere
 *     host's SSM managed instance lists in this tag (and in {@code NAME.2}, {@code NAME.3}, … for
 *     more), via {@code ssm:ListTagsForResource}; empty: off. The {@code prod} profile sets {@code
 *     edge-tunnel.hosts}
 */
@ConfigurationProperties("ingress.ecs")
public record EcsCheckProperties(
        @DefaultValue("") String cluster,
        Boolean verifyTasks,
        @DefaultValue("true") boolean requireManagedInstance,
        @DefaultValue("true") boolean bindTaskRole,
        @DefaultValue("") String hostsTag) {

    public EcsCheckProperties {
        cluster = cluster == null ? "" : cluster.trim();
        hostsTag = hostsTag == null ? "" : hostsTag.trim();
        verifyTasks = verifyTasks == null ? !cluster.isEmpty() : verifyTasks;
        if (verifyTasks && cluster.isEmpty()) {
            throw new IllegalArgumentException("ingress.ecs.cluster: empty "
                    + "(expected: the agents' ECS cluster when ingress.ecs.verify-tasks=true)");
        }
        if (!hostsTag.matches("[A-Za-z0-9_./-]{0,120}")) {
            throw new IllegalArgumentException("ingress.ecs.hosts-tag: " + hostsTag
                    + " (expected: an SSM tag key: letters, digits, - _ . /)");
        }
    }

    public boolean enabled() {
        return verifyTasks;
    }

    /** Per-host claims are on: an attribute is named and the task check that finds the instance runs. */
    public boolean perHostClaims() {
        return !hostsTag.isEmpty() && verifyTasks;
    }
}
