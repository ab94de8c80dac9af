package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The policy as CloudFormation sets it: indexed environment variables, hosts comma-separated. */
class HostPolicyPropertiesBindingTests {

    @Test
    void rulesBindFromEnvironmentVariables() {
        MutablePropertySources sources = new MutablePropertySources();
        sources.addFirst(new SystemEnvironmentPropertySource("systemEnvironment", Map.of(
                "INGRESS_POLICY_RULES_0_IDENTITY", "arn:aws:iam::111122223333:role/shop-edge-*",
                "INGRESS_POLICY_RULES_0_HOSTS", "shop.example.com,*.shop.example.com",
                "INGRESS_POLICY_RULES_1_IDENTITY", "token:team-b",
                "INGRESS_POLICY_RULES_1_HOSTS", "b.example.com",
                "INGRESS_POLICY_WHEN_EMPTY", "deny",
                "INGRESS_PROXY_TRUSTED_PROXIES", "10.0.0.0/24,10.0.1.0/24")));
        Binder binder = new Binder(ConfigurationPropertySources.from(sources));

        HostPolicyProperties policy = binder.bindOrCreate("ingress.policy", HostPolicyProperties.class);
        assertThat(policy.rules()).containsExactly(
                new HostPolicyProperties.Rule("arn:aws:iam::111122223333:role/shop-edge-*",
                        List.of("shop.example.com", "*.shop.example.com")),
                new HostPolicyProperties.Rule("token:team-b", List.of("b.example.com")));
        assertThat(policy.whenEmpty()).isEqualTo("deny");
        assertThat(policy.maxTunnelsPerIdentity()).isEqualTo(64);
        assertThat(binder.bindOrCreate("ingress.proxy", TrustedProxiesProperties.class).trustedProxies())
                .containsExactly("10.0.0.0/24", "10.0.1.0/24");
        assertThat(HostPolicy.of(policy.rules()).check("arn:aws:iam::111122223333:role/shop-edge-eu",
                List.of(io.edgetunnel.protocol.RouteClaim.host("eu.shop.example.com")))).isEmpty();
    }

    @Test
    void severalRulesBindFromOneVariable() {
        MutablePropertySources sources = new MutablePropertySources();
        sources.addFirst(new SystemEnvironmentPropertySource("systemEnvironment", Map.of(
                "INGRESS_POLICY_RULE_LIST", "arn:aws:iam::111122223333:role/edge-*=app.example.com,api.example.com/v1;"
                        + " token:shared = *.dev.example.com ;")));
        HostPolicyProperties policy = new Binder(ConfigurationPropertySources.from(sources))
                .bindOrCreate("ingress.policy", HostPolicyProperties.class);
        assertThat(policy.rules()).containsExactly(
                new HostPolicyProperties.Rule("arn:aws:iam::111122223333:role/edge-*",
                        List.of("app.example.com", "api.example.com/v1")),
                new HostPolicyProperties.Rule("token:shared", List.of("*.dev.example.com")));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HostPolicyProperties.parseRuleList("token:a"))
                .hasMessageContaining("ingress.policy.rule-list: 'token:a' (expected: IDENTITY=HOST");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HostPolicyProperties.parseRuleList("token:a= "))
                .hasMessageContaining("expected: IDENTITY=HOST");
    }
}
