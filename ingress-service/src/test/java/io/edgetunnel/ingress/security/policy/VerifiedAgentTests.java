package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.security.iam.HostGrant;
import io.edgetunnel.ingress.security.iam.IamIdentity;
import io.edgetunnel.protocol.RouteClaim;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VerifiedAgentTests {

    private static final String ROLE = "arn:aws:iam::111122223333:role/edge-agent";

    private static IamIdentity onInstance(String instance, String... grants) {
        return new IamIdentity("111122223333", "arn:aws:sts::111122223333:assumed-role/edge-agent/t1", ROLE, "t1",
                "arn:aws:ecs:eu-west-1:111122223333:task/edge/t1", instance,
                Optional.of(java.util.Arrays.stream(grants).map(g -> HostGrant.parse(g).orElseThrow()).toList()));
    }

    @Test
    void eachHostIsItsOwnIdentityAndMayClaimOnlyItsGrants() {
        VerifiedAgent home = VerifiedAgent.of(onInstance("mi-0aaa", "app.example.com"));
        VerifiedAgent office = VerifiedAgent.of(onInstance("mi-0bbb", "api.example.com"));

        assertThat(home.policyIdentity()).isEqualTo(ROLE);
        assertThat(home.principal()).isEqualTo(ROLE + "@mi-0aaa").isNotEqualTo(office.principal());
        assertThat(home.ungranted(List.of(new RouteClaim("app.example.com", "/")))).isEmpty();
        // the same role on another host: neither its host nor a longer prefix of it
        assertThat(office.ungranted(List.of(new RouteClaim("app.example.com", "/"))))
                .hasValueSatisfying(m -> assertThat(m).contains("route app.example.com is not among the hosts this "
                        + "instance may serve [api.example.com]"));
        assertThat(office.ungranted(List.of(new RouteClaim("api.example.com", "/"), new RouteClaim("app.example.com", "/admin"))))
                .isPresent();
    }

    @Test
    void withoutPerHostClaimsTheRoleIsTheIdentity() {
        IamIdentity plain = new IamIdentity("111122223333", "arn:aws:sts::111122223333:assumed-role/edge-agent/t1", ROLE,
                "t1", "");
        assertThat(VerifiedAgent.of(plain).principal()).isEqualTo(ROLE);
        assertThat(VerifiedAgent.of(plain).ungranted(List.of(new RouteClaim("any.example.com", "/")))).isEmpty();
        assertThat(VerifiedAgent.of("token:shared").principal()).isEqualTo("token:shared");
    }
}
