package io.edgetunnel.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.List;
import org.junit.jupiter.api.Test;

class HopByHopHeadersTests {

    @Test
    void stripsTheRfcFieldsHttp2SettingsAndEveryProxyField() {
        List<Header> stripped = HopByHopHeaders.strip(List.of(
                new Header("Connection", "keep-alive"),
                new Header("Keep-Alive", "timeout=5"),
                new Header("Transfer-Encoding", "chunked"),
                new Header("Upgrade", "h2c"),
                new Header("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"),
                new Header("Proxy-Authorization", "Basic c2VjcmV0"),
                new Header("Proxy-Authenticate", "Basic"),
                new Header("Proxy-Anything", "1"),
                new Header("x-http2-stream-id", "3"),
                new Header("X-Edge-Cluster-Holder", "none"),
                new Header("Accept", "*/*")));

        assertThat(stripped).containsExactly(new Header("Accept", "*/*"));
    }

    @Test
    void stripsWhatConnectionNamesButNeverTheForwardingFields() {
        List<Header> stripped = HopByHopHeaders.strip(List.of(
                new Header("Connection", "close, X-Secret-Hop, X-Forwarded-For"),
                new Header("X-Secret-Hop", "1"),
                new Header("X-Forwarded-For", "203.0.113.7")));

        assertThat(stripped).containsExactly(new Header("X-Forwarded-For", "203.0.113.7"));
    }

    @Test
    void keepsTeOnlyAsTrailers() {
        assertThat(HopByHopHeaders.strip(List.of(new Header("TE", "trailers, deflate;q=0.5"))))
                .containsExactly(new Header("TE", "trailers"));
        assertThat(HopByHopHeaders.strip(List.of(new Header("TE", "gzip")))).isEmpty();
    }

    @Test
    void keepsOrderCaseAndDuplicatesOfNettyHeaders() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Set-Cookie", "a=1")
                .add("proxy-authenticate", "Basic")
                .add("Set-Cookie", "b=2")
                .add("X-App", "x");

        assertThat(HopByHopHeaders.strip(headers)).containsExactly(
                new Header("Set-Cookie", "a=1"), new Header("Set-Cookie", "b=2"), new Header("X-App", "x"));
    }

    @Test
    void everyFieldNettyAddsForAnHttp2StreamIsHopByHop() {
        for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
            assertThat(HopByHopHeaders.isHopByHop(name.text().toString())).as(name.text().toString()).isTrue();
        }
        assertThat(HopByHopHeaders.HTTP2_EXTENSIONS).hasSize(HttpConversionUtil.ExtensionHeaderNames.values().length);
    }

    @Test
    void namesHopByHopFieldsWhateverTheirCase() {
        assertThat(List.of("TE", "Proxy-Connection", "proxy-foo", "HTTP2-Settings", "Upgrade", "X-HTTP2-Scheme"))
                .allMatch(HopByHopHeaders::isHopByHop);
        assertThat(List.of("Host", "Accept", "X-Forwarded-For", "Expect", "Proxyish"))
                .noneMatch(HopByHopHeaders::isHopByHop);
    }
}
