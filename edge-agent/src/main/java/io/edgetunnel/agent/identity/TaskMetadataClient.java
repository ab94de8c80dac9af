package io.edgetunnel.agent.identity;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads task metadata v4 ({@code ${ECS_CONTAINER_METADATA_URI_V4}/task}). Blocking: call it off the
 * event loop.
 */
final class TaskMetadataClient {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http;
    private final Duration timeout;

    TaskMetadataClient(Duration timeout) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(timeout)
                .build();
    }

    TaskMetadata task(URI base) {
        String b = base.toString();
        URI uri = URI.create((b.endsWith("/") ? b : b + "/") + "task");
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IdentityCheckException(IdentityCheckException.Check.TASK_METADATA,
                    "task metadata at " + uri + " unreachable: " + e.getClass().getSimpleName()
                            + " (expected: the ECS agent's metadata endpoint; is this running as an ECS task?)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IdentityCheckException(IdentityCheckException.Check.TASK_METADATA, "interrupted");
        }
        if (response.statusCode() != 200) {
            throw new IdentityCheckException(IdentityCheckException.Check.TASK_METADATA,
                    "task metadata at " + uri + " answered " + response.statusCode() + " (expected: 200)");
        }
        try {
            JsonNode task = JSON.readTree(response.body());
            String taskArn = text(task, "TaskARN");
            String cluster = text(task, "Cluster");
            if (taskArn.isEmpty() || cluster.isEmpty()) {
                throw new IdentityCheckException(IdentityCheckException.Check.TASK_METADATA,
                        "task metadata without TaskARN or Cluster (expected: both)");
            }
            return new TaskMetadata(cluster, taskArn, text(task, "LaunchType"), text(task, "Family"),
                    text(task, "KnownStatus"));
        } catch (JacksonException e) {
            throw new IdentityCheckException(IdentityCheckException.Check.TASK_METADATA,
                    "task metadata is not JSON (expected: the v4 /task document)");
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || !value.isString() ? "" : value.asString();
    }
}
