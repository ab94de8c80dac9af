package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.protocol.RouteClaim;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostPolicyTests {

    private static final String SHOP_ROLE = "arn:aws:iam::111122223333:role/shop-edge-eu";
    private static final String BLOG_ROLE = "arn:aws:iam::111122223333:role/blog-edge";

    private static final HostPolicy POLICY = HostPolicy.of(List.of(
            new HostPolicyProperties.Rule("arn:aws:iam::111122223333:role/shop-edge-*",
                    List.of("shop.example.com", "*.shop.example.com")),
            new HostPolicyProperties.Rule(BLOG_ROLE, List.of("blog.example.com", "*.example.org")),
            new HostPolicyProperties.Rule("arn:aws:iam::111122223333:role/admin", List.of("admin.shop.example.com")),
            new HostPolicyProperties.Rule("token:team-b", List.of("b.example.net"))));

    private static List<RouteClaim> hosts(String... hosts) {
        return java.util.Arrays.stream(hosts).map(RouteClaim::host).toList();
    }

    @Test
    void allowsHostsTheRuleGives() {
        assertThat(POLICY.check(SHOP_ROLE, hosts("shop.example.com", "eu.shop.example.com"))).isEmpty();
        assertThat(POLICY.check("token:team-b", hosts("b.example.net"))).isEmpty();
    }

    @Test
    void deniesHostsOfAnotherIdentity() {
        assertThat(POLICY.check(SHOP_ROLE, hosts("shop.example.com", "blog.example.com")))
                .hasValueSatisfying(m -> assertThat(m).contains("host blog.example.com is not allowed for this identity"));
        assertThat(POLICY.check("token:team-a", hosts("b.example.net"))).isPresent();
    }

    @Test
    void deniesHostsInNoRule() {
        assertThat(POLICY.check(SHOP_ROLE, hosts("unknown.example.com")))
                .hasValueSatisfying(m -> assertThat(m).contains("is in no policy rule"));
    }

    @Test
    void wildcardRuleCoversSubdomainsButNotTheApex() {
        assertThat(POLICY.check(BLOG_ROLE, hosts("a.example.org", "x.y.example.org"))).isEmpty();
        assertThat(POLICY.check(BLOG_ROLE, hosts("example.org"))).isPresent();
        assertThat(POLICY.check(BLOG_ROLE, hosts("evilexample.org"))).isPresent();
    }

    @Test
    void roleGlobMatchesOnlyItsPattern() {
        assertThat(POLICY.check("arn:aws:iam::111122223333:role/shop-edge-us", hosts("shop.example.com"))).isEmpty();
        assertThat(POLICY.check("arn:aws:iam::999999999999:role/shop-edge-us", hosts("shop.example.com"))).isPresent();
        assertThat(POLICY.check("arn:aws:iam::111122223333:role/shop-edgeX", hosts("shop.example.com"))).isPresent();
    }

    @Test
    void exactRuleBeatsAnotherIdentitysWildcard() {
        String admin = "arn:aws:iam::111122223333:role/admin";
        assertThat(POLICY.check(admin, hosts("admin.shop.example.com"))).isEmpty();
        assertThat(POLICY.check(SHOP_ROLE, hosts("admin.shop.example.com")))
                .hasValueSatisfying(m -> assertThat(m).contains("not allowed for this identity"));
    }

    @Test
    void wildcardClaimCannotSwallowAHostOfAnotherIdentity() {
        assertThat(POLICY.check(SHOP_ROLE, hosts("*.shop.example.com")))
                .hasValueSatisfying(m -> assertThat(m).contains("overlaps admin.shop.example.com"));
        assertThat(POLICY.check(BLOG_ROLE, hosts("*.example.org"))).isEmpty();
    }

    @Test
    void wildcardClaimNeedsAWildcardRule() {
        HostPolicy policy = HostPolicy.of(List.of(new HostPolicyProperties.Rule("token:a", List.of("a.example.com"))));
        assertThat(policy.check("token:a", hosts("*.example.com"))).isPresent();
    }

    @Test
    void catchAllRuleGivesEverythingNotGivenMoreSpecifically() {
        HostPolicy policy = HostPolicy.of(List.of(
                new HostPolicyProperties.Rule("token:ops", List.of("*")),
                new HostPolicyProperties.Rule("token:a", List.of("a.example.com"))));
        assertThat(policy.check("token:ops", hosts("anything.example.com"))).isEmpty();
        assertThat(policy.check("token:ops", hosts("a.example.com"))).isPresent();
        assertThat(policy.check("token:a", hosts("a.example.com"))).isEmpty();
    }

    @Test
    void allowAllAllowsAnything() {
        assertThat(HostPolicy.allowAll().check("token:x", hosts("*.example.com", "a.b"))).isEmpty();
    }

    @Test
    void invalidHostPatternsAreConfigurationErrors() {
        assertThatThrownBy(() -> new HostPolicyProperties.Rule("token:a", List.of("a.*.com")))
                .hasMessageContaining("(expected: host, *.suffix or *)");
        assertThatThrownBy(() -> new HostPolicyProperties.Rule(" ", List.of("a.com")))
                .hasMessageContaining("identity: empty");
    }

    @Test
    void aPathPrefixOnAHostAnotherIdentityIsAlsoGivenNeedsARuleNamingThePath() {
        HostPolicy shared = HostPolicy.of(List.of(
                new HostPolicyProperties.Rule("token:a", List.of("app.example.com")),
                new HostPolicyProperties.Rule("token:b", List.of("app.example.com", "app.example.com/admin/")),
                new HostPolicyProperties.Rule("token:c", List.of("solo.example.com"))));
        // both may serve the whole host...
        assertThat(shared.check("token:a", List.of(new RouteClaim("app.example.com", "/")))).isEmpty();
        assertThat(shared.check("token:b", List.of(new RouteClaim("app.example.com", "/")))).isEmpty();
        // ...but a prefix takes part of the other's traffic: only where a rule names it
        assertThat(shared.check("token:a", List.of(new RouteClaim("app.example.com", "/api"))))
                .hasValueSatisfying(m -> assertThat(m).contains("path prefix app.example.com/api on a host policy also "
                        + "gives another identity"));
        assertThat(shared.check("token:b", List.of(new RouteClaim("app.example.com", "/admin/users")))).isEmpty();
        assertThat(shared.check("token:a", List.of(new RouteClaim("app.example.com", "/admin"))))
                .hasValueSatisfying(m -> assertThat(m).contains("policy gives app.example.com/admin to another identity"));
        // a host no one else is given: any prefix of it
        assertThat(shared.check("token:c", List.of(new RouteClaim("solo.example.com", "/v1")))).isEmpty();
    }

    @Test
    void rulesWithPathsAreValidated() {
        assertThatThrownBy(() -> new HostPolicyProperties.Rule("token:a", List.of("app.example.com/a*")))
                .hasMessageContaining("with an optional /path prefix");
        assertThat(new HostPolicyProperties.Rule("token:a", List.of("App.Example.com/Admin/")).hosts())
                .containsExactly("app.example.com/Admin");
    }
}
