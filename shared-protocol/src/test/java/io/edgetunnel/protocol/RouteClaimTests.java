package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RouteClaimTests {

    @Test
    void lowerCasesTheHostSoClaimsCompareEqual() {
        RouteClaim claim = new RouteClaim("App.Example.COM", "/api/");
        assertThat(claim.host()).isEqualTo("app.example.com");
        assertThat(claim).isEqualTo(new RouteClaim("app.example.com", "/api/"));
    }

    @Test
    void keepsThePathPrefixCaseAsGiven() {
        assertThat(new RouteClaim("example.com", "/API/V1").pathPrefix()).isEqualTo("/API/V1");
    }

    @Test
    void claimsTheWholeHostWithTheHostFactory() {
        RouteClaim claim = RouteClaim.host("example.com");
        assertThat(claim.pathPrefix()).isEqualTo("/");
        assertThat(claim.isWildcard()).isFalse();
        assertThat(claim).hasToString("example.com");
    }

    @Test
    void recognisesWildcardClaims() {
        RouteClaim claim = new RouteClaim("*.preview.example.com", "/");
        assertThat(claim.isWildcard()).isTrue();
        assertThat(claim).hasToString("*.preview.example.com");
    }

    @Test
    void printsHostAndPrefixWhenThePrefixIsNotRoot() {
        assertThat(new RouteClaim("api.example.com", "/v1/")).hasToString("api.example.com/v1/");
    }

    @Test
    void acceptsBracketedIpv6Hosts() {
        assertThat(RouteClaim.host("[2001:DB8::1]").host()).isEqualTo("[2001:db8::1]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "*", "example.com.", "example.com:8080", "exa mple.com", "*.*.example.com", "[x]"})
    void rejectsHostsThatAreNotPatterns(String host) {
        assertThatThrownBy(() -> RouteClaim.host(host))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: a host name or *.suffix");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "api", "api/", " /api"})
    void rejectsPathPrefixesNotStartingWithSlash(String prefix) {
        assertThatThrownBy(() -> new RouteClaim("example.com", prefix))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: starts with /");
    }

    @Test
    void rejectsNulls() {
        assertThatThrownBy(() -> new RouteClaim(null, "/")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new RouteClaim("example.com", null)).isInstanceOf(NullPointerException.class);
    }
}
