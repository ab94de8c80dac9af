package io.edgetunnel.ingress.deploy;

import jakarta.validation.constraints.NotNull;
import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Draining ahead of SIGTERM ({@code ingress.drain.*}): on ECS, the replica watches its own task with
 * {@code ecs:DescribeTasks} and starts draining as soon as ECS marks it for stopping, which is when
 * its load-balancer deregistration begins (see docs/operations.md, "Deploys").
 *
 * @param watchTask watch this task with {@code ecs:DescribeTasks} (needs that permission on the task
 *     role) and drain when ECS starts stopping it; off: drain only at SIGTERM. Ignored, with a
 *     warning, outside ECS
 * @param watchInterval how often the task is described; a drain starts at most this long after
 *     ECS begins the deregistration. Errors are retried at the next interval
 * @param taskMetadataUri the task metadata endpoint v4; empty means {@code
 *     ECS_CONTAINER_METADATA_URI_V4}, as ECS injects it (set it only for tests)
 * @param taskMetadataTimeout for reading the task metadata endpoint at startup
 */
@Validated
@ConfigurationProperties("ingress.drain")
public record DrainProperties(
        @DefaultValue("false") boolean watchTask,
        @DefaultValue("5s") @NotNull Duration watchInterval,
        URI taskMetadataUri,
        @DefaultValue("2s") @NotNull Duration taskMetadataTimeout) {

    /** A floor against typos such as {@code 5ms}; tests poll fast, deployments every few seconds. */
    static final Duration MIN_WATCH_INTERVAL = Duration.ofMillis(100);

    public DrainProperties {
        if (watchInterval != null && watchInterval.compareTo(MIN_WATCH_INTERVAL) < 0) {
            throw new IllegalArgumentException("ingress.drain.watch-interval: " + watchInterval
                    + " (expected: >= " + MIN_WATCH_INTERVAL.toMillis() + "ms)");
        }
        if (taskMetadataTimeout != null && (taskMetadataTimeout.isZero() || taskMetadataTimeout.isNegative())) {
            throw new IllegalArgumentException(
                    "ingress.drain.task-metadata-timeout: " + taskMetadataTimeout + " (expected: > 0)");
        }
    }

    TaskMetadataReader metadataReader() {
        return taskMetadataUri != null
                ? TaskMetadataReader.of(taskMetadataUri, taskMetadataTimeout)
                : TaskMetadataReader.fromEnvironment(System.getenv(), taskMetadataTimeout);
    }
}
