package io.edgetunnel.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.RedisServer;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The console's JSON on each replica of a cluster: who holds which route, and where this replica's agents are. */
@ExtendWith(NoLeaks.class)
class ClusterConsoleIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static RedisServer redis;
    private static UpstreamApp app;
    private static IngressNode holder;
    private static IngressNode other;
    private static AgentNode agent;

    @BeforeAll
    static void start() throws Exception {
        RedisServer.assumeAvailable();
        redis = RedisServer.start();
        app = new UpstreamApp("console-held");
        holder = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "replica-a"));
        other = IngressNode.start(ClusterForwardingIntegrationTests.clusterProperties(redis, "replica-b"));
        agent = AgentNode.start(holder, "agent-console-1", AgentNode.route("held.example.com", app.url()));
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, other, holder, app, redis}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    private static JsonNode console(IngressNode replica) {
        String body = HttpClient.create()
                .get()
                .uri("http://127.0.0.1:" + replica.managementPort() + "/actuator/console")
                .responseContent()
                .aggregate()
                .asString()
                .block(TIMEOUT);
        return JSON.readTree(body);
    }

    private static JsonNode route(JsonNode view, String name) {
        for (JsonNode route : view.path("routes")) {
            if (name.equals(route.path("route").asString())) {
                return route;
            }
        }
        return null;
    }

    @Test
    void eachReplicaShowsItsOwnAgentsAndWhichPeerHoldsTheOtherRoutes() {
        await().atMost(TIMEOUT).until(() -> {
            JsonNode route = route(console(other), "held.example.com");
            return route != null && "elsewhere".equals(route.path("health").asString());
        });
        JsonNode onOther = console(other);
        JsonNode onHolder = console(holder);

        assertThat(onOther.path("replica").path("replicaId").asString()).isEqualTo("replica-b");
        assertThat(onOther.path("replica").path("clusterEnabled").asBoolean()).isTrue();
        assertThat(onOther.path("replica").path("replicaCount").asInt()).isEqualTo(2);
        assertThat(onOther.path("agents")).isEmpty();
        assertThat(route(onOther, "held.example.com").path("replicas").get(0).asString()).isEqualTo("replica-a");
        assertThat(onOther.path("replica").path("peers").get(0).path("replicaId").asString()).isEqualTo("replica-a");

        assertThat(onHolder.path("agents").get(0).path("agentId").asString()).isEqualTo("agent-console-1");
        assertThat(onHolder.path("agents").get(0).path("replicaId").asString()).isEqualTo("replica-a");
        assertThat(route(onHolder, "held.example.com").path("health").asString()).isEqualTo("healthy");
    }
}
