package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForwardedHeadersTests {

    private static List<Header> forward(Header... received) {
        return ForwardedHeaders.forRequest(List.of(received), "10.0.0.7", "http", "app.test", 8080);
    }

    @Test
    void hopByHopHeadersAreRemoved() {
        List<Header> headers = forward(
                new Header("Host", "app.test"),
                new Header("Connection", "keep-alive, X-Secret-Hop"),
                new Header("Keep-Alive", "timeout=5"),
                new Header("Proxy-Connection", "keep-alive"),
                new Header("Proxy-Authorization", "Basic abc"),
                new Header("TE", "gzip"),
                new Header("Trailer", "X-Checksum"),
                new Header("Transfer-Encoding", "chunked"),
                new Header("Upgrade", "h2c"),
                new Header("X-Secret-Hop", "1"),
                new Header("Accept", "*/*"));

        assertThat(headers).extracting(Header::name)
                .containsExactly("Host", "Accept", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
                        "X-Forwarded-Port", "Forwarded", "X-Request-Id");
    }

    @Test
    void theClustersOwnHeadersNeverPassInEitherDirection() {
        // a client cannot smuggle a hop signature in, an app cannot fake "no holder here" or "refused"
        assertThat(forward(new Header("X-Edge-Cluster-Hop", "v1 a 1 n m"), new Header("Accept", "*/*")))
                .noneMatch(h -> h.name().toLowerCase(java.util.Locale.ROOT).startsWith("x-edge-cluster"));
        assertThat(ForwardedHeaders.forResponse(List.of(new Header("X-Edge-Cluster-Holder", "none"),
                new Header("x-edge-cluster-refused", "signature"), new Header("Content-Type", "text/plain"))))
                .containsExactly(new Header("Content-Type", "text/plain"));
    }

    @Test
    void teTrailersSurvives() {
        assertThat(forward(new Header("TE", "trailers, deflate;q=0.5"))).contains(new Header("TE", "trailers"));
    }

    @Test
    void orderCaseAndDuplicatesArePreserved() {
        List<Header> headers = forward(
                new Header("x-lower", "1"),
                new Header("Set-Thing", "a"),
                new Header("X-UPPER", "2"),
                new Header("Set-Thing", "b"));

        assertThat(headers.subList(0, 4)).containsExactly(
                new Header("x-lower", "1"), new Header("Set-Thing", "a"), new Header("X-UPPER", "2"),
                new Header("Set-Thing", "b"));
    }

    @Test
    void forwardedHeadersAppendToWhatTheLoadBalancerSent() {
        List<Header> headers = forward(
                new Header("X-Forwarded-For", "203.0.113.9"),
                new Header("x-forwarded-for", "198.51.100.1"),
                new Header("X-Forwarded-Proto", "https"),
                new Header("X-Forwarded-Host", "public.example.com"),
                new Header("X-Forwarded-Port", "443"));

        assertThat(headers).contains(
                new Header("X-Forwarded-For", "203.0.113.9, 198.51.100.1, 10.0.0.7"),
                new Header("X-Forwarded-Proto", "https, http"),
                // the ALB never sets X-Forwarded-Host: whatever arrives is the client's claim
                new Header("X-Forwarded-Host", "app.test"),
                new Header("X-Forwarded-Port", "443, 8080"));
        assertThat(headers).filteredOn(h -> h.name().equalsIgnoreCase("X-Forwarded-For")).hasSize(1);
    }

    @Test
    void forwardedHeadersAreAddedWhenAbsent() {
        assertThat(forward()).contains(
                new Header("X-Forwarded-For", "10.0.0.7"),
                new Header("X-Forwarded-Proto", "http"),
                new Header("X-Forwarded-Host", "app.test"),
                new Header("X-Forwarded-Port", "8080"));
    }

    @Test
    void requestIdIsKeptWhenPresentAndGeneratedOtherwise() {
        assertThat(forward(new Header("x-request-id", "abc-123"))).contains(new Header("X-Request-Id", "abc-123"));
        String generated = forward().stream().filter(h -> h.name().equals("X-Request-Id")).findFirst().orElseThrow()
                .value();
        String other = forward().stream().filter(h -> h.name().equals("X-Request-Id")).findFirst().orElseThrow()
                .value();
        assertThat(generated).matches("[0-9a-f-]{36}").isNotEqualTo(other);
    }

    @Test
    void responseHopByHopHeadersAreRemoved() {
        assertThat(ForwardedHeaders.forResponse(List.of(
                        new Header("Content-Type", "text/plain"),
                        new Header("Transfer-Encoding", "chunked"),
                        new Header("Connection", "close"),
                        new Header("Set-Cookie", "a=1"),
                        new Header("Set-Cookie", "b=2"))))
                .containsExactly(new Header("Content-Type", "text/plain"), new Header("Set-Cookie", "a=1"),
                        new Header("Set-Cookie", "b=2"));
    }

    @Test
    void fromAnUntrustedPeerForwardingHeadersAreReplacedNotAppended() {
        List<Header> headers = ForwardedHeaders.forRequest(List.of(
                        new Header("Host", "app.test"),
                        new Header("X-Forwarded-For", "1.2.3.4"),
                        new Header("X-Forwarded-Proto", "https"),
                        new Header("Forwarded", "for=1.2.3.4")),
                "10.0.0.7", false, "http", "app.test", 8080);
        assertThat(headers).contains(
                new Header("X-Forwarded-For", "10.0.0.7"),
                new Header("X-Forwarded-Proto", "http"),
                new Header("Forwarded", "for=10.0.0.7;proto=http;host=app.test"));
        assertThat(headers).extracting(Header::value).noneMatch(v -> v.contains("1.2.3.4") || v.contains("https"));
    }

    @Test
    void fromATrustedPeerTheClientsForwardedIsReplacedAndIpv6AndPortsAreQuoted() {
        List<Header> headers = ForwardedHeaders.forRequest(List.of(
                        new Header("Host", "app.test:8080"),
                        new Header("Forwarded", "for=203.0.113.9;proto=https")),
                "::1", true, "http", "app.test:8080", 8080);
        // the ALB does not set Forwarded either: a client's element would be taken for the ALB's
        assertThat(headers).contains(new Header("Forwarded", "for=\"[::1]\";proto=http;host=\"app.test:8080\""));
    }

    @Test
    void connectionTokensNeverRemoveForwardingHeadersOrTheRequestId() {
        List<Header> headers = ForwardedHeaders.forRequest(List.of(
                        new Header("Host", "app.test"),
                        new Header("Connection", "X-Forwarded-For, x-forwarded-proto, X-Forwarded-Port, X-Request-Id, Host"),
                        new Header("X-Forwarded-For", "203.0.113.9"),
                        new Header("X-Forwarded-Proto", "https"),
                        new Header("X-Forwarded-Port", "443"),
                        new Header("X-Request-Id", "rid-1")),
                "10.0.0.7", true, "http", "app.test", 8080);
        assertThat(headers).contains(
                new Header("Host", "app.test"),
                new Header("X-Forwarded-For", "203.0.113.9, 10.0.0.7"),
                new Header("X-Forwarded-Proto", "https, http"),
                new Header("X-Forwarded-Port", "443, 8080"),
                new Header("X-Request-Id", "rid-1"));
        // the hop to another replica passes the first replica's headers on as they are
        assertThat(HopByHopHeaders.strip(List.of(new Header("Connection", "keep-alive, X-Forwarded-For"),
                        new Header("X-Forwarded-For", "203.0.113.9, 10.0.0.7"))))
                .containsExactly(new Header("X-Forwarded-For", "203.0.113.9, 10.0.0.7"));
    }
}
