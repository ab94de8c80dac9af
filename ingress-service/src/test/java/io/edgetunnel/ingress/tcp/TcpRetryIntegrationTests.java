package io.edgetunnel.ingress.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.support.FakeAgent;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.TcpRoutes;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import reactor.core.publisher.Flux;

/**
 * A TCP connection whose stream an agent of this replica did not take (refused it before answering)
 * goes to another agent of the route once, as an HTTP request does: nothing of the client's was read
 * before the agent's 200, so the client never notices.
 */
@IngressTest
@TestPropertySource(properties = {"ingress.tcp.address=127.0.0.1", "ingress.tcp.listeners=retry=0,refused=0"})
class TcpRetryIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    TunnelServer tunnelServer;

    @Autowired
    AgentRegistry registry;

    @Autowired
    TcpServers tcpServers;

    @Autowired
    MeterRegistry meters;

    private final List<FakeAgent> agents = new ArrayList<>();

    @AfterEach
    void closeAgents() {
        agents.forEach(FakeAgent::close);
        await().atMost(WAIT).until(() -> registry.tunnelCount() == 0);
    }

    @Test
    void aConnectionAnAgentRefusesReachesTheTargetThroughAnotherAgentIntact() throws IOException {
        FakeAgent refusing = agent("tcp-refusing", TcpRetryIntegrationTests::refuse, "retry");
        FakeAgent echoing = agent("tcp-echoing", TcpRetryIntegrationTests::echo, "retry");

        // round-robin over the two agents: of two connections in a row, one is offered to the refusing one first
        for (int i = 0; i < 4; i++) {
            assertThat(roundTrip("retry", "hello through the other agent " + i))
                    .isEqualTo("hello through the other agent " + i);
        }

        assertThat(refusing.requests()).isNotEmpty();
        assertThat(echoing.requests()).hasSize(4);
        // one outcome per connection, the final attempt's
        await().atMost(WAIT).until(() -> connections("retry", "ok") == 4);
        assertThat(meters.find("tunnel.ingress.tcp.connections").tag("route", "retry").counters())
                .allSatisfy(counter -> assertThat(counter.getId().getTag("outcome")).isEqualTo("ok"));
    }

    @Test
    void aConnectionTheOnlyAgentRefusesIsResetAsBefore() throws IOException {
        FakeAgent refusing = agent("tcp-only-refusing", TcpRetryIntegrationTests::refuse, "refused");

        try (Socket socket = connect("refused")) {
            assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SocketException.class);
        }

        assertThat(refusing.requests()).hasSize(1);
        await().atMost(WAIT).until(() -> connections("refused", "agent_reset") == 1);
    }

    private FakeAgent agent(String id, FakeAgent.StreamTaker taker, String route) {
        FakeAgent agent = FakeAgent.registered(tunnelServer.port(), id, IngressTest.TOKEN, null,
                TcpRoutes.claim(route).host());
        agent.takeStreams(taker);
        agents.add(agent);
        return agent;
    }

    /** An agent shutting down: it takes no new stream. */
    private static void refuse(TunnelStream stream, Frame.Request request) {
        stream.reset(ResetCode.REFUSED_STREAM, "agent is closing");
    }

    /** A target that sends back what it gets: the 200, then the client's bytes and FIN as they come. */
    private static void echo(TunnelStream stream, Frame.Request request) {
        stream.sendHeaders(new Frame.Response(stream.id(), 200, List.of(), false));
        Flux.from(stream.inbound()).subscribe(stream.newBody(new OutboundBody.Listener() {
            @Override
            public void onComplete() {
                stream.complete(); // both directions ended
            }

            @Override
            public void onError(Throwable cause) {
                stream.reset(ResetCode.UPSTREAM_ERROR, "echo failed: " + cause.getMessage());
            }
        }, List::of));
    }

    private double connections(String route, String outcome) {
        Counter counter = meters.find("tunnel.ingress.tcp.connections")
                .tag("route", route)
                .tag("outcome", outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private Socket connect(String route) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), tcpServers.port(route));
        socket.setSoTimeout((int) WAIT.toMillis());
        return socket;
    }

    private String roundTrip(String route, String message) throws IOException {
        try (Socket socket = connect(route)) {
            socket.getOutputStream().write(message.getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            // the echo answers EOF only after our FIN crossed: EOF here proves the whole stream did
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}
