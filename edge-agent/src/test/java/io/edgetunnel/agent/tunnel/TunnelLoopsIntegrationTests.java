package io.edgetunnel.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.agent.support.FakeIngress;
import io.edgetunnel.agent.support.LocalApp;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.resources.LoopResources;

/** Each tunnel on an event loop of its own, so an agent's traffic is not all on one core. */
class TunnelLoopsIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void tunnelsTakeTheLoopsInTurn() throws Exception {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(3);
        try {
            TunnelLoops loops = TunnelLoops.of(group);
            Set<EventLoop> firstThree = new HashSet<>(List.of(loops.forTunnel(0), loops.forTunnel(1), loops.forTunnel(2)));
            assertThat(firstThree).hasSize(3);
            assertThat(loops.forTunnel(3)).isSameAs(loops.forTunnel(0));
        } finally {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void theRequestsOfTwoTunnelsRunOnTwoEventLoops() throws Exception {
        assumeTrue(LoopResources.DEFAULT_IO_WORKER_COUNT >= 2, "needs two event loops");
        try (LocalApp app = new LocalApp(routes -> routes.get("/hello", (req, res) -> res.sendString(Mono.just("hello"))));
                FakeIngress ingress = new FakeIngress(0, hello -> FakeIngress.accept(64 * 1024, 100, 1000))) {
            Map<String, String> properties = AgentLauncher.testProperties(ingress.uri(), "demo.localhost=" + app.url(), "agent-loops");
            properties.put("agent.tunnel-count", "2");
            properties.put("agent.reconnect.min-backoff", "50ms");
            properties.put("agent.reconnect.max-backoff", "200ms");
            try (AgentLauncher agent = AgentLauncher.start(properties)) {
                await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 2);
                int streamId = 1;
                for (FakeIngress.Tunnel tunnel : ingress.tunnels()) {
                    TunnelClientIntegrationTests.MiniIngress.Result get = new TunnelClientIntegrationTests.MiniIngress(tunnel, 64 * 1024).exchange(new Frame.Request(streamId,
                            "GET", "/hello", "demo.localhost", "/", List.of(new Header("Host", "demo.localhost")), true), null);
                    assertThat(get.response.status()).isEqualTo(200);
                    assertThat(new String(get.body, StandardCharsets.UTF_8)).isEqualTo("hello");
                    streamId += 2;
                }
                // the agent runs a stream's local connection on its tunnel's loop, one pool per loop
                assertThat(agent.context().getBean(LocalAppForwarder.class).eventLoopPools()).isEqualTo(2);
                assertThat(new HashSet<>(agent.tunnels().tunnelLoops())).hasSize(2);

                // re-dialled tunnels keep their loops: left to the chooser, each redial is a coin toss
                Set<FakeIngress.Tunnel> closed = new HashSet<>();
                for (int round = 0; round < 6; round++) {
                    List<FakeIngress.Tunnel> all = ingress.tunnels();
                    int before = all.size();
                    List<FakeIngress.Tunnel> open = all.stream().filter(t -> !closed.contains(t)).toList();
                    FakeIngress.Tunnel victim = open.get(round % open.size());
                    closed.add(victim);
                    victim.close(1001, "replica going away");
                    await().atMost(WAIT).until(() -> ingress.tunnels().size() == before + 1
                            && agent.tunnels().connectedTunnels() == 2);
                    assertThat(new HashSet<>(agent.tunnels().tunnelLoops())).as("round %d", round).hasSize(2);
                }
            }
        }
    }
}
