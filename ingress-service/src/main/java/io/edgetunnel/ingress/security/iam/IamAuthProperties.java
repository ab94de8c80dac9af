package io.edgetunnel.ingress.security.iam;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * IAM proof verification ({@code ingress.auth.iam.*}), used when {@code ingress.auth.mode} is
 * {@code iam} or {@code token-and-iam}.
 *
 * @param serverId the value agents must sign in {@code X-Edge-Tunnel-Server-ID}; binds a proof to
 *     this ingress so one captured elsewhere cannot be replayed here (e.g. the public host name)
 * @param stsUrl where proofs are sent, and the only URL a proof may name; empty means {@code
 *     https://sts.REGION.amazonaws.com/} for {@code ingress.aws.region}
 * @param maxSkew how far a proof's {@code X-Amz-Date} may be from this clock
 * @param timeout for the call to STS
 * @param allowedAccounts when non-empty, only callers in these accounts are accepted
 * @param ecs the optional {@code ecs:DescribeTasks} confirmation
 */
@ConfigurationProperties("ingress.auth.iam")
public record IamAuthProperties(
        @DefaultValue("") String serverId,
        URI stsUrl,
        @DefaultValue("5m") Duration maxSkew,
        @DefaultValue("5s") Duration timeout,
        @DefaultValue List<String> allowedAccounts,
        @DefaultValue Ecs ecs) {

    public IamAuthProperties {
        serverId = serverId == null ? "" : serverId.trim();
        maxSkew = maxSkew == null ? Duration.ofMinutes(5) : maxSkew;
        timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
        allowedAccounts = allowedAccounts == null ? List.of() : List.copyOf(allowedAccounts);
        ecs = ecs == null ? new Ecs(false, "", true) : ecs;
        if (maxSkew.isNegative() || maxSkew.compareTo(Duration.ofMinutes(15)) > 0) {
            throw new IllegalArgumentException("ingress.auth.iam.max-skew: " + maxSkew + " (expected: 0..15m)");
        }
    }

    /**
     * @param enabled confirm each IAM identity with {@code ecs:DescribeTasks} (ingress's own role)
     * @param cluster the cluster agents run in; required when enabled
     * @param requireManagedInstance also require the task's container instance to be an SSM managed
     *     instance ({@code mi-…}, ECS Anywhere), via {@code ecs:DescribeContainerInstances}
     */
    public record Ecs(
            @DefaultValue("false") boolean enabled,
            @DefaultValue("") String cluster,
            @DefaultValue("true") boolean requireManagedInstance) {
        public Ecs {
            cluster = cluster == null ? "" : cluster.trim();
            if (enabled && cluster.isEmpty()) {
                throw new IllegalArgumentException("ingress.auth.iam.ecs.cluster: empty "
                        + "(expected: the agents' ECS cluster when ingress.auth.iam.ecs.enabled=true)");
            }
        }
    }
}
