package io.edgetunnel.ingress.proxy;

import static io.edgetunnel.ingress.proxy.RawConnection.get;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.support.EdgeAgents;
import io.edgetunnel.ingress.support.EdgeIngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Header;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * A kept-alive public connection keeps serving requests after one the ingress answered itself
 * ({@link KeepAliveReadGuard}): without the guard, the third request below is never read and the
 * client waits until it gives up (reactor/reactor-netty#4361).
 */
@EdgeIngressTest
class KeepAliveIntegrationTests {

    /** A healthy answer takes milliseconds; a connection that stopped reading never answers. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(15);

    @Autowired
    TunnelServer server;

    @LocalServerPort
    int publicPort;

    @RegisterExtension
    final EdgeAgents agents = new EdgeAgents();

    @Test
    void aRequestAnsweredOnTheSpotBehindAProxiedOneLeavesTheConnectionReadingTheNext() throws Exception {
        agents.register(server.port(), (agent, request, body) -> agent.respond(request.streamId(), 200,
                List.of(new Header("Content-Length", "2")), "ok".getBytes(StandardCharsets.US_ASCII)), "kept.test");

        try (RawConnection client = new RawConnection(publicPort, READ_TIMEOUT)) {
            for (int round = 1; round <= 3; round++) {
                // the second waits behind the first (proxied, so answered later) and is answered at once
                client.send(get("kept.test", "/kept") + get("nobody.kept.test", "/kept"));
                assertThat(client.read()).as("round %d, proxied", round).startsWith("HTTP/1.1 200");
                assertThat(client.read()).as("round %d, unknown host", round).startsWith("HTTP/1.1 404");

                client.send(get("kept.test", "/kept"));
                assertThat(client.read()).as("round %d, the next request on the connection", round)
                        .startsWith("HTTP/1.1 200");
            }
        }
    }

    /**
     * A sanity check of the guard's other side: requests answered on the spot never wait in Reactor
     * Netty's queue (each is answered before the next is decoded), so these pass without the guard too;
     * with it, they must still come back in order and leave the connection reading.
     */
    @Test
    void pipelinedRequestsAnsweredOnTheSpotComeBackInOrderAndTheConnectionReadsOn() throws Exception {
        try (RawConnection client = new RawConnection(publicPort, READ_TIMEOUT)) {
            client.send(get("nobody.kept.test", "/1") + get("nobody.kept.test", "/2") + get("nobody.kept.test", "/3"));
            for (int i = 1; i <= 3; i++) {
                assertThat(client.read()).as("pipelined %d", i).startsWith("HTTP/1.1 404");
            }
            client.send(get("nobody.kept.test", "/4"));
            assertThat(client.read()).as("the next request on the connection").startsWith("HTTP/1.1 404");
        }
    }
}
