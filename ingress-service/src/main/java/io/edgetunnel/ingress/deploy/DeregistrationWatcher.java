package io.edgetunnel.ingress.deploy;

import io.edgetunnel.ingress.tunnel.TunnelServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.DescribeTasksResponse;
import software.amazon.awssdk.services.ecs.model.Task;

/**
 * Starts the drain when ECS starts stopping this task, instead of at SIGTERM. ECS gives a task no
 * event for "your load-balancer deregistration began"; what it does give is the task's own state:
 * the moment the service scheduler (or StopTask) decides to stop a task, {@code ecs:DescribeTasks}
 * shows {@code desiredStatus: STOPPED}, and the task passes {@code DEACTIVATING} (target group
 * deregistration) and {@code STOPPING} (SIGTERM, then SIGKILL after {@code stopTimeout}) before
 * {@code STOPPED}. ECS sends SIGTERM only after the deregistration delay (or once the targets are
 * unused), so polling every {@code watch-interval} leaves nearly the whole delay for agents to move.
 *
 * <p>Polls on its own thread (blocking SDK calls, never an event loop). Any error (throttling,
 * network, missing permission, a task ECS does not know) is logged once per kind, counted and retried
 * at the next interval; only a described task that is stopping begins a drain. ECS never takes a
 * desired status of STOPPED back, so after that it stops polling and the process idles, serving what
 * is in flight, until SIGTERM runs the normal shutdown.
 */
final class DeregistrationWatcher implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(DeregistrationWatcher.class);

    /** lastStatus values after RUNNING (AWS: "Amazon ECS task lifecycle"). */
    private static final Set<String> LEAVING = Set.of("DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED");

    private final DrainProperties properties;
    private final TaskMetadataReader metadata;
    private final Supplier<EcsClient> ecs;
    private final TunnelServer tunnels;
    private final AtomicInteger draining = new AtomicInteger();
    private final Counter running;
    private final Counter stopping;
    private final Counter errors;
    private final Set<String> loggedErrors = ConcurrentHashMap.newKeySet();
    private volatile ScheduledExecutorService executor;
    private volatile TaskMetadata task;

    DeregistrationWatcher(DrainProperties properties, TaskMetadataReader metadata, Supplier<EcsClient> ecs,
            TunnelServer tunnels, MeterRegistry registry) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.ecs = Objects.requireNonNull(ecs, "ecs");
        this.tunnels = Objects.requireNonNull(tunnels, "tunnels");
        // registered whether or not the watch is on, so dashboards and the catalogue see them everywhere
        Gauge.builder("tunnel.ingress.deregistration.draining", draining, AtomicInteger::get)
                .description("1 once this replica drains because ECS is stopping (deregistering) its task")
                .register(registry);
        this.running = checks(registry, "running");
        this.stopping = checks(registry, "stopping");
        this.errors = checks(registry, "error");
    }

    private static Counter checks(MeterRegistry registry, String result) {
        return Counter.builder("tunnel.ingress.deregistration.checks")
                .description("ecs:DescribeTasks calls on this replica's own task, by result")
                .tag("result", result)
                .register(registry);
    }

    @Override
    public synchronized void start() {
        if (!properties.watchTask() || executor != null) {
            return;
        }
        if (!metadata.onEcs()) {
            log.warn("ingress.drain.watch-task is on but this is not an ECS task ({} unset): the ingress will "
                    + "drain at SIGTERM only", TaskMetadataReader.ENV);
            return;
        }
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "ingress-deregistration-watch");
            thread.setDaemon(true);
            return thread;
        });
        executor = scheduler;
        // fixed delay: a slow or timed-out call never overlaps the next one
        scheduler.scheduleWithFixedDelay(this::check, 0, properties.watchInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One poll; never throws (an exception would cancel the schedule). */
    void check() {
        try {
            TaskMetadata current = task;
            if (current == null) {
                current = metadata.read();
                task = current;
                log.info("Watching task {} (cluster {}) every {} to drain when ECS starts stopping it",
                        current.taskArn(), current.cluster(), properties.watchInterval());
            }
            TaskMetadata self = current;
            DescribeTasksResponse response =
                    ecs.get().describeTasks(request -> request.cluster(self.cluster()).tasks(self.taskArn()));
            Task described = response.tasks().stream()
                    .filter(t -> self.taskArn().equals(t.taskArn()))
                    .findFirst()
                    .orElse(null);
            if (described == null) {
                String reason = response.failures().isEmpty() ? "no task" : response.failures().get(0).reason();
                failed("DescribeTasks:" + reason, "ECS does not describe task " + self.taskArn() + " (" + reason
                        + "; expected: this task, in cluster " + self.cluster() + ")", null);
                return;
            }
            if (!isStopping(described)) {
                running.increment();
                return;
            }
            stopping.increment();
            begin(described);
        } catch (AwsServiceException e) {
            failed(e.awsErrorDetails() == null ? "AwsServiceException" : e.awsErrorDetails().errorCode(),
                    "ecs:DescribeTasks failed: " + e.getMessage(), null);
        } catch (SdkClientException e) {
            failed(e.getClass().getSimpleName() + (e.getCause() == null ? "" : "/" + e.getCause().getClass().getSimpleName()),
                    "ecs:DescribeTasks failed: " + e.getMessage(), null);
        } catch (IllegalStateException e) {
            // the task metadata endpoint: unreachable, or not the v4 document
            failed("TaskMetadata", e.getMessage(), null);
        } catch (RuntimeException e) {
            failed(e.getClass().getSimpleName(), "Deregistration check failed: " + e.getMessage(), e);
        }
    }

    static boolean isStopping(Task task) {
        return "STOPPED".equals(task.desiredStatus())
                || (task.lastStatus() != null && LEAVING.contains(task.lastStatus()));
    }

    private void begin(Task described) {
        draining.set(1);
        log.info("ECS is stopping this task (desiredStatus {}, lastStatus {}, stopCode {}, reason '{}'): draining "
                        + "now, ahead of SIGTERM", described.desiredStatus(), described.lastStatus(),
                described.stopCodeAsString(), Objects.toString(described.stoppedReason(), ""));
        tunnels.drain("ingress task is being deregistered");
        ScheduledExecutorService scheduler = executor;
        if (scheduler != null) {
            // nothing left to learn: the process idles until SIGTERM
            scheduler.shutdown();
        }
    }

    /** Logged once per kind (WARN), then quietly: a throttled or denied call repeats every interval. */
    private void failed(String kind, String message, Throwable unexpected) {
        errors.increment();
        if (loggedErrors.add(kind)) {
            if (unexpected != null) {
                log.warn("{}; retrying every {} (logged once per kind: {})", message, properties.watchInterval(), kind,
                        unexpected);
            } else {
                log.warn("{}; retrying every {} (logged once per kind: {})", message, properties.watchInterval(), kind);
            }
        } else {
            log.debug("{} ({})", message, kind);
        }
    }

    /** Whether a drain began because of a deregistration. */
    boolean drainingForDeregistration() {
        return draining.get() == 1;
    }

    @Override
    public synchronized void stop() {
        ScheduledExecutorService scheduler = executor;
        executor = null;
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return executor != null;
    }
}
