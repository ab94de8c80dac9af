package io.edgetunnel.ingress.security.policy;

import io.edgetunnel.ingress.security.iam.HostGrant;
import io.edgetunnel.ingress.security.iam.IamIdentity;
import io.edgetunnel.protocol.RouteClaim;
import java.util.List;
import java.util.Optional;

/**
 * Who a hello proved to be, in the three roles that identity plays.
 *
 * @param policyIdentity what {@code ingress.policy.rules} match on: {@code token:NAME} or the role ARN
 * @param principal what tunnels are counted and listed under: the policy identity, or with per-host
 *     claims {@code ROLE_ARN@mi-…}, so each host is its own identity
 * @param grants with per-host claims, the only hosts this agent's instance may serve
 */
record VerifiedAgent(String policyIdentity, String principal, Optional<List<HostGrant>> grants) {

    static VerifiedAgent of(String tokenIdentity) {
        return new VerifiedAgent(tokenIdentity, tokenIdentity, Optional.empty());
    }

    static VerifiedAgent of(IamIdentity identity) {
        return new VerifiedAgent(identity.roleArn(), identity.principal(), identity.grants());
    }

    /** Why the first claim outside this instance's grants is refused; empty when all are granted. */
    Optional<String> ungranted(List<RouteClaim> claims) {
        if (grants.isEmpty()) {
            return Optional.empty();
        }
        for (RouteClaim claim : claims) {
            if (grants.get().stream().noneMatch(grant -> grant.covers(claim))) {
                return Optional.of("route " + claim + " is not among the hosts this instance may serve "
                        + grants.get() + " (expected: a host in the instance's ingress.ecs.hosts-tag)");
            }
        }
        return Optional.empty();
    }
}
