package io.edgetunnel.ingress.security.iam;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okForContentType;
import static com.github.tomakehurst.wiremock.client.WireMock.post;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;

/** ECS (awsJson1_1) answers for WireMock; priority 0 so they win over the STS stubs on the same path. */
final class EcsStubs {

    static final String TASK_ARN = "arn:aws:ecs:eu-west-1:111122223333:task/edge/" + FakeSts.TASK_ID;
    static final String INSTANCE_ARN = "arn:aws:ecs:eu-west-1:111122223333:container-instance/edge/4b6d5e1f";

    private EcsStubs() {}

    static final String TASK_DEFINITION_ARN = "arn:aws:ecs:eu-west-1:111122223333:task-definition/edge-agent:7";

    static void describeTasks(WireMockExtension wm, String launchType, String lastStatus) {
        stub(wm, "DescribeTasks", """
                {"tasks":[{"taskArn":"%s","clusterArn":"arn:aws:ecs:eu-west-1:111122223333:cluster/edge",
                  "taskDefinitionArn":"%s",
                  "containerInstanceArn":"%s","launchType":"%s","lastStatus":"%s","desiredStatus":"RUNNING"}],
                 "failures":[]}""".formatted(TASK_ARN, TASK_DEFINITION_ARN, INSTANCE_ARN, launchType, lastStatus));
        taskDefinitionRole(wm, FakeSts.ROLE_ARN);
    }

    /** The task definition's task role ({@code ""}: none). */
    static void taskDefinitionRole(WireMockExtension wm, String roleArn) {
        stub(wm, "DescribeTaskDefinition", """
                {"taskDefinition":{"taskDefinitionArn":"%s","family":"edge-agent","revision":7%s}}"""
                .formatted(TASK_DEFINITION_ARN, roleArn.isEmpty() ? "" : ",\"taskRoleArn\":\"" + roleArn + "\""));
    }

    /** A container instance with attributes, name → value. */
    static void describeContainerInstances(WireMockExtension wm, String instanceId, java.util.Map<String, String> attributes) {
        StringBuilder list = new StringBuilder();
        attributes.forEach((name, value) -> list.append(list.length() == 0 ? "" : ",")
                .append("{\"name\":\"").append(name).append("\",\"value\":\"").append(value).append("\"}"));
        stub(wm, "DescribeContainerInstances", """
                {"containerInstances":[{"containerInstanceArn":"%s","ec2InstanceId":"%s","status":"ACTIVE",
                  "agentConnected":true,"attributes":[%s]}],"failures":[]}""".formatted(INSTANCE_ARN, instanceId, list));
    }

    /** DescribeTasks knows no such task: an empty list and a MISSING failure, as ECS answers. */
    static void noSuchTask(WireMockExtension wm) {
        stub(wm, "DescribeTasks", """
                {"tasks":[],"failures":[{"arn":"%s","reason":"MISSING"}]}""".formatted(TASK_ARN));
    }

    static void describeContainerInstances(WireMockExtension wm, String instanceId) {
        stub(wm, "DescribeContainerInstances", """
                {"containerInstances":[{"containerInstanceArn":"%s","ec2InstanceId":"%s","status":"ACTIVE",
                  "agentConnected":true}],"failures":[]}""".formatted(INSTANCE_ARN, instanceId));
    }

    /** The SSM managed instance's tags, key → value ({@code ssm:ListTagsForResource}). */
    static void managedInstanceTags(WireMockExtension wm, String instanceId, java.util.Map<String, String> tags) {
        StringBuilder list = new StringBuilder();
        tags.forEach((key, value) -> list.append(list.length() == 0 ? "" : ",")
                .append("{\"Key\":\"").append(key).append("\",\"Value\":\"").append(value).append("\"}"));
        wm.stubFor(post("/").atPriority(0)
                .withHeader("X-Amz-Target", equalTo("AmazonSSM.ListTagsForResource"))
                .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath("$.ResourceId",
                        equalTo(instanceId)))
                .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath("$.ResourceType",
                        equalTo("ManagedInstance")))
                .willReturn(okForContentType("application/x-amz-json-1.1", "{\"TagList\":[" + list + "]}")));
    }

    private static void stub(WireMockExtension wm, String operation, String json) {
        wm.stubFor(post("/").atPriority(0)
                .withHeader("X-Amz-Target", equalTo("AmazonEC2ContainerServiceV20141113." + operation))
                .willReturn(okForContentType("application/x-amz-json-1.1", json)));
    }
}
