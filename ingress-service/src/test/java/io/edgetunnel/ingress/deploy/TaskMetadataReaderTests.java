package io.edgetunnel.ingress.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

class TaskMetadataReaderTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void readsTaskArnClusterAndPrivateIpOfAFargateTask() {
        try (FakeTaskMetadata endpoint = new FakeTaskMetadata(FakeTaskMetadata.FARGATE_TASK)) {
            TaskMetadataReader reader = TaskMetadataReader.fromEnvironment(
                    Map.of(TaskMetadataReader.ENV, endpoint.base().toString()), TIMEOUT);

            TaskMetadata task = reader.read();

            assertThat(task).isEqualTo(new TaskMetadata(
                    FakeTaskMetadata.FARGATE_TASK_ARN, FakeTaskMetadata.FARGATE_CLUSTER, "10.0.2.61"));
            assertThat(endpoint.reads()).isEqualTo(1);
        }
    }

    @Test
    void acceptsABaseWithATrailingSlash() {
        try (FakeTaskMetadata endpoint = new FakeTaskMetadata(FakeTaskMetadata.FARGATE_TASK)) {
            TaskMetadata task = TaskMetadataReader.of(URI.create(endpoint.base() + "/"), TIMEOUT).read();

            assertThat(task.privateIpv4()).isEqualTo("10.0.2.61");
        }
    }

    @Test
    void bridgeNetworkAddressIsNotThePrivateIp() {
        try (FakeTaskMetadata endpoint =
                new FakeTaskMetadata(FakeTaskMetadata.resource("task-metadata-v4-ec2-bridge.json"))) {
            TaskMetadata task = TaskMetadataReader.of(endpoint.base(), TIMEOUT).read();

            assertThat(task.cluster()).isEqualTo("default");
            assertThat(task.privateIpv4()).isEmpty();
        }
    }

    @Test
    void returnsNullWithoutTheEnvironmentVariable() {
        TaskMetadataReader reader = TaskMetadataReader.fromEnvironment(Map.of(), TIMEOUT);

        assertThat(reader.onEcs()).isFalse();
        assertThat(reader.read()).isNull();
    }

    @Test
    void fromEnvironmentIsNotOnEcsHere() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv(TaskMetadataReader.ENV) == null,
                "this JVM runs as an ECS task");

        assertThat(TaskMetadataReader.fromEnvironment().read()).isNull();
    }

    @Test
    void failsWithTheReasonWhenTheEndpointAnswersAnError() {
        try (FakeTaskMetadata endpoint = new FakeTaskMetadata("")) {
            endpoint.answer(500, "{\"message\":\"internal\"}");
            TaskMetadataReader reader = TaskMetadataReader.of(endpoint.base(), TIMEOUT);

            assertThatThrownBy(reader::read).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("answered 500 (expected: 200)");

            endpoint.answer(200, "{\"Cluster\":\"default\"}");
            assertThatThrownBy(reader::read).hasMessageContaining("without TaskARN or Cluster");

            endpoint.answer(200, "<html>");
            assertThatThrownBy(reader::read).hasMessageContaining("is not JSON");
        }
    }

    @Test
    void failsWhenTheEndpointIsUnreachable() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        TaskMetadataReader reader = TaskMetadataReader.of(URI.create("http://127.0.0.1:" + closed + "/v4/x"), TIMEOUT);

        assertThatThrownBy(reader::read).isInstanceOf(IllegalStateException.class).hasMessageContaining("unreachable");
    }

    @Test
    void refusesToBlockAnEventLoop() {
        TaskMetadataReader reader = TaskMetadataReader.of(URI.create("http://127.0.0.1:9/v4/x"), TIMEOUT);

        assertThatThrownBy(() -> Mono.fromCallable(reader::read).subscribeOn(Schedulers.parallel()).block(TIMEOUT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("non-blocking thread");
    }
}
