package io.edgetunnel.ingress.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.support.EdgeAgents;
import io.edgetunnel.ingress.support.EdgeIngressTest;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The public port against hostile clients and misbehaving apps, through the real ingress and a
 * protocol-level agent: each test sends what an attacker would and checks what the app, the client
 * and the next client on the same connection get.
 */
@EdgeIngressTest
class PublicEdgeIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    TunnelServer server;

    @LocalServerPort
    int publicPort;

    @RegisterExtension
    final EdgeAgents agents = new EdgeAgents();

    private FakeAgent agent(FakeAgent.Responder responder, String... hosts) {
        return agents.register(server.port(), responder, hosts);
    }

    // ---------------------------------------------------------------- forwarding headers

    @Test
    void clientClaimsAboutHostAndEarlierHopsNeverReachTheAppAsTrusted() throws Exception {
        FakeAgent app = agent(EdgeAgents::ok, "fwd.test");
        // loopback is the trusted proxy here: these headers arrive as if the ALB had passed them on
        String reply = Http.raw(publicPort, "GET /x HTTP/1.1\r\nHost: fwd.test\r\n"
                + "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\n"
                + "X-Forwarded-Host: evil.example\r\nForwarded: for=192.0.2.66;host=evil.example;proto=https\r\n"
                + "Connection: keep-alive, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Port\r\n\r\n");

        assertThat(reply).startsWith("HTTP/1.1 200");
        List<Header> headers = app.requests().get(0).headers();
        assertThat(headers).contains(
                new Header("X-Forwarded-For", "203.0.113.9, 127.0.0.1"),
                new Header("X-Forwarded-Proto", "https, http"),
                new Header("X-Forwarded-Port", "443, " + publicPort),
                new Header("X-Forwarded-Host", "fwd.test"),
                new Header("Forwarded", "for=127.0.0.1;proto=http;host=fwd.test"));
        assertThat(headers).extracting(Header::value).noneMatch(v -> v.contains("evil") || v.contains("192.0.2.66"));
    }

    // ---------------------------------------------------------------- h2c upgrade

    @Test
    void h2cUpgradeIsIgnoredUnlessTheHostOptedIn() throws Exception {
        agent(EdgeAgents::ok, "noupgrade.test", "upgrade.test");
        String upgrade = "GET / HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";

        assertThat(Http.raw(publicPort, upgrade.formatted("noupgrade.test")))
                .as("answered over HTTP/1.1, not switched").startsWith("HTTP/1.1 200");
        assertThat(Http.raw(publicPort, upgrade.formatted("upgrade.test"))).startsWith("HTTP/1.1 101");
    }

    // ---------------------------------------------------------------- cookies

    @Test
    void cookiesForDomainsBeyondTheRouteAreNarrowedToTheRequestHost() {
        agent((a, request, body) -> a.respond(request.streamId(), 200, List.of(
                new Header("Set-Cookie", "a=1; Domain=example.test; Path=/"),
                new Header("Set-Cookie", "b=2; Domain=cookies.example.test"),
                new Header("Set-Cookie", "c=3; domain=.EXAMPLE.test; HttpOnly"),
                new Header("Set-Cookie", "d=4; Domain=other.test")), new byte[0]), "cookies.example.test");

        Http.Reply reply = Http.get(publicPort, "cookies.example.test", "/");

        assertThat(reply.headers().getAll("Set-Cookie")).containsExactly(
                "a=1; Path=/", "b=2; Domain=cookies.example.test", "c=3; HttpOnly", "d=4");
    }

    // ---------------------------------------------------------------- Content-Length

    @Test
    void bodyLongerThanItsContentLengthNeverSpillsIntoTheNextResponse() throws Exception {
        agent(lengthLiar("0123456789HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforge"), "long.test");

        String replies = pipelined("long.test");

        assertThat(replies).doesNotContain("forge");
    }

    @Test
    void bodyShorterThanItsContentLengthAbortsTheConnectionInsteadOfSwallowingTheNextResponse() throws Exception {
        agent(lengthLiar("short"), "short.test");

        String replies = pipelined("short.test");

        assertThat(replies).doesNotContain("second-ok");
    }

    /** Answers /lie with Content-Length 10 and {@code body}, anything else with 200 "second-ok". */
    private static FakeAgent.Responder lengthLiar(String body) {
        return (a, request, ignored) -> {
            if (request.target().equals("/lie")) {
                a.send(new Frame.Response(request.streamId(), 200, List.of(new Header("Content-Length", "10")), false));
                a.send(new Frame.Data(request.streamId(),
                        Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.US_ASCII)), true));
            } else {
                a.respond(request.streamId(), 200, List.of(), "second-ok".getBytes(StandardCharsets.US_ASCII));
            }
        };
    }

    /** Two pipelined requests on one keep-alive connection; what came back until the second's body or EOF. */
    private String pipelined(String host) throws Exception {
        try (Socket client = new Socket("127.0.0.1", publicPort)) {
            client.setSoTimeout(500);
            client.getOutputStream().write(("GET /lie HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
                    + "GET /second HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            InputStream in = client.getInputStream();
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline && !seen.toString(StandardCharsets.ISO_8859_1).endsWith("second-ok")) {
                try {
                    int read = in.read(buffer);
                    if (read < 0) {
                        break;
                    }
                    seen.write(buffer, 0, read);
                } catch (java.net.SocketException e) {
                    break;
                } catch (SocketTimeoutException e) {
                    // poll again
                }
            }
            return seen.toString(StandardCharsets.ISO_8859_1);
        }
    }

}
