package io.edgetunnel.ingress.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.model.Task;

/** Which DescribeTasks answers mean "ECS is stopping this task" (AWS: "Amazon ECS task lifecycle"). */
class DeregistrationWatcherTests {

    private static Task task(String desiredStatus, String lastStatus) {
        return Task.builder().desiredStatus(desiredStatus).lastStatus(lastStatus).build();
    }

    @Test
    void aTaskStartingOrRunningIsNotStopping() {
        assertThat(DeregistrationWatcher.isStopping(task("RUNNING", "PROVISIONING"))).isFalse();
        assertThat(DeregistrationWatcher.isStopping(task("RUNNING", "PENDING"))).isFalse();
        assertThat(DeregistrationWatcher.isStopping(task("RUNNING", "ACTIVATING"))).isFalse();
        assertThat(DeregistrationWatcher.isStopping(task("RUNNING", "RUNNING"))).isFalse();
        assertThat(DeregistrationWatcher.isStopping(task(null, null))).isFalse();
    }

    @Test
    void desiredStoppedOrAnyStateAfterRunningIsStopping() {
        assertThat(DeregistrationWatcher.isStopping(task("STOPPED", "RUNNING"))).isTrue();
        assertThat(DeregistrationWatcher.isStopping(task("STOPPED", "DEACTIVATING"))).isTrue();
        assertThat(DeregistrationWatcher.isStopping(task("STOPPED", "STOPPING"))).isTrue();
        assertThat(DeregistrationWatcher.isStopping(task("STOPPED", "DEPROVISIONING"))).isTrue();
        assertThat(DeregistrationWatcher.isStopping(task("RUNNING", "DEACTIVATING"))).isTrue();
    }

    @Test
    void propertiesRejectAWatchIntervalBelowTheFloor() {
        assertThatThrownBy(() -> new DrainProperties(true, Duration.ofMillis(5), null, Duration.ofSeconds(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ingress.drain.watch-interval: PT0.005S (expected: >= 100ms)");
        assertThatThrownBy(() -> new DrainProperties(true, Duration.ofSeconds(5), null, Duration.ZERO))
                .hasMessageContaining("ingress.drain.task-metadata-timeout");
    }
}
