package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;

/**
 * The HTTP hop kept as a fallback ({@code ingress.cluster.transport=http}): a replica set to it forwards
 * each request as one HTTP/1.1 exchange and dials no peer link, and the holder (which accepts both)
 * serves it as before.
 */
@ExtendWith(NoLeaks.class)
class ClusterHttpHopIntegrationTests {

    private static RedisServer redis;
    private static UpstreamApp app;
    private static IngressNode holder;
    private static IngressNode other;
    private static AgentNode agent;

    @BeforeAll
    static void start() {
        RedisServer.assumeAvailable();
        redis = RedisServer.start();
        app = new UpstreamApp("held");
        holder = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "hop-a"));
        other = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "hop-b",
                "ingress.cluster.transport=http"));
        agent = AgentNode.start(holder, "hop-agent", AgentNode.route("app.example.com", app.url()));
        await().atMost(Duration.ofSeconds(60)).until(() -> PublicClient.get(other, "app.example.com", "/name").status() == 200);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, other, holder, app, redis}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    @Test
    void requestsAndBodiesAreForwardedOverTheHttpHopWithoutAPeerLink() {
        byte[] body = new byte[1024 * 1024 + 5];
        new java.util.Random(3).nextBytes(body);
        byte[] echoed = PublicClient.to(other, "app.example.com")
                .post().uri("/echo")
                .send(Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(body)))
                .responseSingle((res, content) -> content.asByteArray())
                .block(Duration.ofSeconds(60));
        assertThat(echoed).isEqualTo(body);
        assertThat(other.meters().get("tunnel.ingress.cluster.requests").tag("via", "forwarded").counter().count())
                .isPositive();
        assertThat(other.meters().get("tunnel.ingress.cluster.links").tag("end", "sender").gauge().value()).isZero();
        assertThat(holder.meters().get("tunnel.ingress.cluster.links").tag("end", "holder").gauge().value()).isZero();
    }

    @Test
    void aHolderThatClosesBeforeAnsweringIsRetriedForIdempotentRequestsOnly() throws Exception {
        // the request went out on the hop, the connection closed, no answer came: a GET may be sent
        // again (RFC 9110, section 9.2.2); a POST with a body may have reached the app and is not
        AtomicInteger slammed = new AtomicInteger();
        try (ClosingHolder slammer = ClosingHolder.start(slammed)) {
            Disposable ghost = DirectoryEntries.keepPublishing(redis, "slamming-hop", "127.0.0.1", slammer.port(),
                    "app.example.com");
            try {
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> ClusterFaultIntegrationTests.tunnelsListing(other).contains("slamming-hop"));
                for (int i = 0; i < 20; i++) {
                    PublicClient.Reply reply = PublicClient.get(other, "app.example.com", "/name");
                    assertThat(reply.status()).as("GET %d", i).isEqualTo(200);
                    assertThat(reply.body()).isEqualTo("held");
                    PublicClient.Reply post = PublicClient.to(other, "app.example.com").post().uri("/echo")
                            .send(ByteBufFlux.fromString(Mono.just("body-" + i)))
                            .responseSingle(PublicClient::reply).block(Duration.ofSeconds(30));
                    assertThat(post.status()).as("POST %d", i).isIn(200, 502);
                    if (post.status() == 200) {
                        assertThat(post.body()).isEqualTo("body-" + i);
                    }
                }
                assertThat(slammed.get()).as("requests the closing holder took and dropped").isPositive();
            } finally {
                ghost.dispose();
            }
        }
    }
}
