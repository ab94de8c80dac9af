package io.edgetunnel.ingress.deploy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads this task's metadata from the ECS task metadata endpoint v4 ({@code GET
 * ${ECS_CONTAINER_METADATA_URI_V4}/task}; AWS: "Amazon ECS task metadata v4 JSON response for tasks
 * on Fargate"). Blocking, with a short timeout: call it at startup or from a worker thread, never on
 * an event loop (it refuses to run on one).
 */
public final class TaskMetadataReader {

    /** The variable the ECS agent (and Fargate) injects into every container. */
    public static final String ENV = "ECS_CONTAINER_METADATA_URI_V4";

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final URI base;
    private final Duration timeout;

    private TaskMetadataReader(URI base, Duration timeout) {
        this.base = base;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
    }

    /** From {@value #ENV}; {@link #read()} returns null when it is unset (not running on ECS). */
    public static TaskMetadataReader fromEnvironment() {
        return fromEnvironment(System.getenv(), DEFAULT_TIMEOUT);
    }

    static TaskMetadataReader fromEnvironment(Map<String, String> environment, Duration timeout) {
        String value = environment.get(ENV);
        return new TaskMetadataReader(value == null || value.isBlank() ? null : URI.create(value.trim()), timeout);
    }

    /** An explicit endpoint (tests, or {@code ingress.drain.task-metadata-uri}); null means not on ECS. */
    public static TaskMetadataReader of(URI base, Duration timeout) {
        return new TaskMetadataReader(base, timeout);
    }

    /** Whether there is an endpoint to read, i.e. whether this process runs as an ECS task. */
    public boolean onEcs() {
        return base != null;
    }

    /**
     * This task's ARN, cluster and private IPv4 address, or null when not running on ECS.
     *
     * @throws IllegalStateException when the endpoint is set but unreachable, answers other than 200,
     *     or sends a document without {@code TaskARN} and {@code Cluster}; the message says which
     */
    public TaskMetadata read() {
        if (base == null) {
            return null;
        }
        if (Schedulers.isInNonBlockingThread()) {
            throw new IllegalStateException("task metadata read on a non-blocking thread "
                    + Thread.currentThread().getName() + " (expected: startup or a worker thread)");
        }
        String b = base.toString();
        URI uri = URI.create((b.endsWith("/") ? b : b + "/") + "task");
        HttpResponse<String> response;
        // a client per read: this runs once or twice at startup, and an unreachable client's
        // selector thread ends by itself (Java 17's HttpClient has no close())
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(timeout)
                .build();
        try {
            response = http.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("task metadata at " + uri + " unreachable: " + e
                    + " (expected: the ECS task metadata endpoint v4)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading task metadata at " + uri, e);
        }
        if (response.statusCode() != 200) {
            throw new IllegalStateException("task metadata at " + uri + " answered " + response.statusCode()
                    + " (expected: 200)");
        }
        return parse(response.body(), uri);
    }

    static TaskMetadata parse(String body, URI from) {
        JsonNode task;
        try {
            task = JSON.readTree(body);
        } catch (JacksonException e) {
            throw new IllegalStateException("task metadata at " + from + " is not JSON (expected: the v4 /task document)");
        }
        String taskArn = text(task, "TaskARN");
        String cluster = text(task, "Cluster");
        if (taskArn.isEmpty() || cluster.isEmpty()) {
            throw new IllegalStateException("task metadata at " + from + " without TaskARN or Cluster (expected: both)");
        }
        return new TaskMetadata(taskArn, cluster, firstIpv4(task.get("Containers")));
    }

    /**
     * The containers of an awsvpc task (Fargate's only mode) share one ENI, so the first address
     * found is the task's. A bridge network's address is Docker's, unreachable from other hosts.
     */
    private static String firstIpv4(JsonNode containers) {
        if (containers == null || !containers.isArray()) {
            return "";
        }
        for (JsonNode container : containers) {
            JsonNode networks = container.get("Networks");
            if (networks == null || !networks.isArray()) {
                continue;
            }
            for (JsonNode network : networks) {
                String mode = text(network, "NetworkMode");
                if (!mode.isEmpty() && !mode.equals("awsvpc")) {
                    continue;
                }
                JsonNode addresses = network.get("IPv4Addresses");
                if (addresses != null && addresses.isArray() && !addresses.isEmpty()
                        && addresses.get(0).isString() && !addresses.get(0).asString().isBlank()) {
                    return addresses.get(0).asString();
                }
            }
        }
        return "";
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        return value == null || !value.isString() ? "" : value.asString().trim();
    }

    @Override
    public String toString() {
        return "TaskMetadataReader[" + (base == null ? "not on ECS" : base) + "]";
    }
}
