package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.config.ProxyProperties.CookieDomains;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.RouteClaim;
import java.util.List;
import org.junit.jupiter.api.Test;

class SetCookieDomainsTests {

    private static List<String> cookies(RouteClaim route, String host, CookieDomains mode, String... setCookies) {
        List<Header> headers = java.util.Arrays.stream(setCookies).map(v -> new Header("Set-Cookie", v)).toList();
        return SetCookieDomains.restrict(headers, route, host, mode).stream().map(Header::value).toList();
    }

    @Test
    void wildcardRouteMayScopeCookiesToHostsBelowItThatCoverTheRequest() {
        assertThat(cookies(RouteClaim.host("*.shop.test"), "eu.a.shop.test", CookieDomains.NARROW,
                "ok=1; Domain=a.shop.test", "own=2; Domain=eu.a.shop.test", "parent=3; Domain=shop.test",
                "sibling=4; Domain=b.shop.test", "tld=5; Domain=test"))
                .containsExactly("ok=1; Domain=a.shop.test", "own=2; Domain=eu.a.shop.test", "parent=3", "sibling=4",
                        "tld=5");
    }

    @Test
    void stripModeDropsTheCookieAndKeepsEverythingElse() {
        List<Header> headers = List.of(new Header("Content-Type", "text/plain"),
                new Header("Set-Cookie", "sid=x; Domain=example.test; Secure"), new Header("Set-Cookie", "mine=1"));

        assertThat(SetCookieDomains.restrict(headers, RouteClaim.host("app.example.test"), "app.example.test",
                CookieDomains.STRIP)).containsExactly(new Header("Content-Type", "text/plain"),
                new Header("Set-Cookie", "mine=1"));
    }

    @Test
    void lastOfSeveralDomainAttributesCannotSlipPastTheCheck() {
        assertThat(cookies(RouteClaim.host("app.example.test"), "app.example.test", CookieDomains.NARROW,
                "sid=x; Domain=app.example.test; Domain=example.test"))
                .containsExactly("sid=x");
    }
}
