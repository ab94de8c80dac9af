package io.edgetunnel.ingress.security.iam;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The optional {@code ecs:DescribeTasks} confirmation of IAM identities ({@code ingress.ecs.*}; env
 * {@code INGRESS_ECS_CLUSTER}). On when a cluster is set, unless {@code verify-tasks=false}.
 *
 * @param cluster the cluster agents run in (name or ARN)
 * @param verifyTasks confirm each IAM identity is a RUNNING EXTERNAL task of that cluster whose id
 *     is the role session name; defaults to true when {@code cluster} is set
 * @param requireManagedInstance also require an ACTIVE SSM managed instance ({@code mi-…}), via
 *     {@code ecs:DescribeContainerInstances}
 */
@ConfigurationProperties("ingress.ecs")
public record EcsCheckProperties(
        @DefaultValue("") String cluster,
        Boolean verifyTasks,
        @DefaultValue("true") boolean requireManagedInstance) {

    public EcsCheckProperties {
        cluster = cluster == null ? "" : cluster.trim();
        verifyTasks = verifyTasks == null ? !cluster.isEmpty() : verifyTasks;
        if (verifyTasks && cluster.isEmpty()) {
            throw new IllegalArgumentException("ingress.ecs.cluster: empty "
                    + "(expected: the agents' ECS cluster when ingress.ecs.verify-tasks=true)");
        }
    }

    public boolean enabled() {
        return verifyTasks;
    }
}
