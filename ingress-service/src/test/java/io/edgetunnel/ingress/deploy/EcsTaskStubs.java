package io.edgetunnel.ingress.deploy;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okForContentType;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;

/**
 * {@code ecs:DescribeTasks} (awsJson1_1) on the Fargate task of {@link FakeTaskMetadata}, as ECS
 * answers it at each point of a deployment. The stub only matches a request for that cluster and
 * task, so a watcher that asked for anything else would see a 404. The newest stub wins.
 */
final class EcsTaskStubs {

    static final String CONTENT_TYPE = "application/x-amz-json-1.1";

    private EcsTaskStubs() {}

    /** The task serving: what DescribeTasks says between deployments. */
    static void running(WireMockExtension ecs) {
        task(ecs, "RUNNING", "RUNNING", "");
    }

    /**
     * The service scheduler has picked the task to stop (a deployment replaced it): desired status
     * STOPPED at once, last status still RUNNING, target group deregistration under way.
     */
    static void stopRequested(WireMockExtension ecs) {
        task(ecs, "STOPPED", "RUNNING", ",\"stopCode\":\"ServiceSchedulerInitiated\",\"stoppedReason\":"
                + "\"Scaling activity initiated by (deployment ecs-svc/5169280574093855189)\"");
    }

    /** Later in the same stop: the task is in DEACTIVATING while its targets drain. */
    static void deactivating(WireMockExtension ecs) {
        task(ecs, "STOPPED", "DEACTIVATING", ",\"stopCode\":\"ServiceSchedulerInitiated\",\"stoppingAt\":1.7649E9");
    }

    /** ECS throttles the account's describe calls. */
    static void throttled(WireMockExtension ecs) {
        ecs.stubFor(describeTasks().willReturn(error(400, "ThrottlingException", "Rate exceeded")));
    }

    /** The task role lacks ecs:DescribeTasks. */
    static void accessDenied(WireMockExtension ecs) {
        ecs.stubFor(describeTasks().willReturn(error(400, "AccessDeniedException",
                "User: arn:aws:sts::111122223333:assumed-role/edge-tunnel-prod-ingress-task/e9028f8d is not "
                        + "authorized to perform: ecs:DescribeTasks")));
    }

    /** The connection dies under the request. */
    static void connectionReset(WireMockExtension ecs) {
        ecs.stubFor(describeTasks().willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    }

    /** ECS does not know the task (eventual consistency, or a wrong cluster). */
    static void missing(WireMockExtension ecs) {
        ecs.stubFor(describeTasks().willReturn(okForContentType(CONTENT_TYPE, """
                {"tasks":[],"failures":[{"arn":"%s","reason":"MISSING"}]}"""
                .formatted(FakeTaskMetadata.FARGATE_TASK_ARN))));
    }

    static int calls(WireMockExtension ecs) {
        return ecs.findAll(postRequestedFor(urlEqualTo("/"))
                        .withHeader("X-Amz-Target", equalTo("AmazonEC2ContainerServiceV20141113.DescribeTasks")))
                .size();
    }

    private static void task(WireMockExtension ecs, String desiredStatus, String lastStatus, String extra) {
        ecs.stubFor(describeTasks().willReturn(okForContentType(CONTENT_TYPE, """
                {"tasks":[{"taskArn":"%s","clusterArn":"%s","launchType":"FARGATE","availabilityZone":"eu-west-1a",
                  "group":"service:edge-tunnel-prod-ingress","desiredStatus":"%s","lastStatus":"%s",
                  "healthStatus":"UNKNOWN","startedAt":1.7649E9%s}],
                 "failures":[]}""".formatted(FakeTaskMetadata.FARGATE_TASK_ARN, FakeTaskMetadata.FARGATE_CLUSTER,
                desiredStatus, lastStatus, extra))));
    }

    private static MappingBuilder describeTasks() {
        return post("/")
                .withHeader("X-Amz-Target", equalTo("AmazonEC2ContainerServiceV20141113.DescribeTasks"))
                .withRequestBody(matchingJsonPath("$.cluster", equalTo(FakeTaskMetadata.FARGATE_CLUSTER)))
                .withRequestBody(matchingJsonPath("$.tasks[0]", equalTo(FakeTaskMetadata.FARGATE_TASK_ARN)));
    }

    private static ResponseDefinitionBuilder error(int status, String type, String message) {
        return aResponse().withStatus(status).withHeader("Content-Type", CONTENT_TYPE)
                .withBody("{\"__type\":\"" + type + "\",\"message\":\"" + message + "\"}");
    }
}
