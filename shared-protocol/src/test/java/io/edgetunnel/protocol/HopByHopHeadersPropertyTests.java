package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * {@link HopByHopHeaders} compares names without lower-casing a copy of each (issue 18): its answers
 * stay those of the lower-casing rule it replaced, kept here as the reference, for names in any case,
 * names a {@code Connection} header lists, and non-ASCII names that {@code Locale.ROOT} folds.
 */
class HopByHopHeadersPropertyTests {

    private static final List<String> NAMES = List.of(
            "Connection", "connection", "CONNECTION", "Keep-Alive", "keep-alive", "Proxy-Connection", "TE", "te", "Te",
            "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Authorization", "proxy-authenticate", "Proxy-Foo",
            "proxy-", "Proxy", "Proxyish", "HTTP2-Settings", "X-Edge-Cluster-Hop", "x-edge-cluster-holder",
            "X-Edge-Cluster-Refused", "X-HTTP2-Stream-Id", "x-http2-scheme", "X-Http2-Path", "Host", "Accept",
            "Content-Type", "Content-Length", "X-Forwarded-For", "X-Request-Id", "Forwarded", "X-Secret-Hop",
            "x-secret-hop", "Set-Cookie", "Expect", "User-Agent",
            // non-ASCII: the Kelvin sign lower-cases to 'k', the dotted capital I to two chars, dotless i stays
            "\u212Aeep-Alive", "Keep-Al\u0131ve", "X-Secret-H\u0130p", "PROXY-\u0130", "T\u00C9");

    private static final List<String> CONNECTION_VALUES = List.of(
            "keep-alive", "close", "Keep-Alive, X-Secret-Hop", "x-secret-hop", "X-Forwarded-For, Host",
            "upgrade, te", " , ,", "\u212Aeep-alive", "X-SECRET-HOP , set-cookie", "keep-al\u0131ve");

    private static final List<String> VALUES = List.of("1", "trailers", "trailers, deflate;q=0.5", "gzip", "");

    @Property(tries = 3_000)
    void stripsExactlyWhatTheLowerCasingRuleStripped(@ForAll("headerLists") List<Header> headers) {
        assertThat(HopByHopHeaders.strip(headers)).isEqualTo(referenceStrip(headers));
    }

    @Property(tries = 1_000)
    void stripsNettysHeadersAsTheLowerCasingRuleStripped(@ForAll("headerLists") List<Header> headers) {
        HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        headers.forEach(header -> netty.add(header.name(), header.value()));

        assertThat(HopByHopHeaders.strip(netty)).isEqualTo(referenceStrip(headers));
    }

    @Property(tries = 500)
    void namesExactlyWhatTheLowerCasingRuleNamed(@ForAll("names") String name) {
        assertThat(HopByHopHeaders.isHopByHop(name)).as(name).isEqualTo(referenceIsHopByHop(name));
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.oneOf(Arbitraries.of(NAMES), Arbitraries.strings().ofMinLength(1).ofMaxLength(30));
    }

    @Provide
    Arbitrary<List<Header>> headerLists() {
        Arbitrary<Header> plain = Combinators.combine(Arbitraries.of(NAMES), Arbitraries.of(VALUES)).as(Header::new);
        Arbitrary<Header> connection = Combinators.combine(
                        Arbitraries.of("Connection", "connection", "CONNECTION"), Arbitraries.of(CONNECTION_VALUES))
                .as(Header::new);
        return Arbitraries.frequencyOf(Tuple.of(4, plain), Tuple.of(1, connection))
                .list()
                .ofMaxSize(12);
    }

    // the rule before issue 18, verbatim but for names

    private static final Set<String> ALWAYS = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "proxy-authorization", "proxy-authenticate", "http2-settings", "x-edge-cluster-hop",
            "x-edge-cluster-holder", "x-edge-cluster-refused");

    private static final Set<String> NOT_NOMINABLE = Set.of(
            "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded",
            "x-request-id");

    private static boolean referenceIsHopByHop(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return ALWAYS.contains(lower) || lower.startsWith("proxy-") || HopByHopHeaders.HTTP2_EXTENSIONS.contains(lower);
    }

    private static List<Header> referenceStrip(List<Header> headers) {
        Set<String> named = new HashSet<>();
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase("connection")) {
                for (String token : header.value().split(",")) {
                    String name = token.trim().toLowerCase(Locale.ROOT);
                    if (!name.isEmpty() && !NOT_NOMINABLE.contains(name)) {
                        named.add(name);
                    }
                }
            }
        }
        List<Header> result = new ArrayList<>(headers.size());
        for (Header header : headers) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (name.equals("te")) {
                if (referenceContainsTrailers(header.value())) {
                    result.add(new Header(header.name(), "trailers"));
                }
                continue;
            }
            if (referenceIsHopByHop(name) || named.contains(name)) {
                continue;
            }
            result.add(header);
        }
        return result;
    }

    private static boolean referenceContainsTrailers(String value) {
        for (String token : value.split(",")) {
            String coding = token.trim();
            int semicolon = coding.indexOf(';');
            if (semicolon >= 0) {
                coding = coding.substring(0, semicolon).trim();
            }
            if (coding.equalsIgnoreCase("trailers")) {
                return true;
            }
        }
        return false;
    }
}
