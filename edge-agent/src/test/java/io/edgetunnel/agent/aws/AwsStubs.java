package io.edgetunnel.agent.aws;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okForContentType;
import static com.github.tomakehurst.wiremock.client.WireMock.post;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * AWS wire shapes for WireMock (STS awsQuery/XML, ECS and Secrets Manager awsJson1_1), so tests run
 * the real SDK clients, signing and error mapping included, against a loopback server.
 */
public final class AwsStubs {

    public static final String REGION = "eu-west-1";
    public static final String ACCOUNT = "111122223333";
    public static final String ACCESS_KEY = "AKIAEDGETUNNELTEST01";
    /** Never to appear in any log: the hygiene tests grep for it. */
    public static final String SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEYZ";
    public static final String SESSION_TOKEN = "IQoJb3JpZ2luX2VjEdgeTunnelTestSessionToken0123456789";
    public static final String TASK_ID = "0123456789abcdef0123456789abcdef";
    public static final String CLUSTER = "edge";
    public static final String CLUSTER_ARN = "arn:aws:ecs:eu-west-1:111122223333:cluster/edge";
    public static final String TASK_ARN = "arn:aws:ecs:eu-west-1:111122223333:task/edge/" + TASK_ID;
    public static final String INSTANCE_ARN =
            "arn:aws:ecs:eu-west-1:111122223333:container-instance/edge/4b6d5e1f2a3b4c5d6e7f8a9b0c1d2e3f";
    public static final String ROLE = "edge-agent-task-role";
    public static final String CALLER_ARN = "arn:aws:sts::111122223333:assumed-role/" + ROLE + "/" + TASK_ID;

    private AwsStubs() {}

    public static AgentAwsProperties properties(WireMockExtension wm) {
        return new AgentAwsProperties(REGION, URI.create(wm.baseUrl()), null, null, null, Duration.ofSeconds(30), 1);
    }

    public static AwsClients clients(WireMockExtension wm) {
        return new AwsClients(properties(wm), StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
    }

    public static StaticCredentialsProvider sessionCredentials() {
        return StaticCredentialsProvider.create(AwsSessionCredentials.create(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN));
    }

    public static void metadata(WireMockExtension wm, String cluster, String launchType) {
        wm.stubFor(get("/v4/meta/task").willReturn(okForContentType("application/json", """
                {"Cluster":"%s","TaskARN":"%s","Family":"edge-agent","Revision":"7","DesiredStatus":"RUNNING",
                 "KnownStatus":"RUNNING"%s,"Containers":[]}""".formatted(cluster, TASK_ARN,
                launchType == null ? "" : ",\"LaunchType\":\"" + launchType + "\""))));
    }

    public static void callerIdentity(WireMockExtension wm, String arn) {
        wm.stubFor(post("/").withRequestBody(containing("Action=GetCallerIdentity"))
                .willReturn(okForContentType("text/xml", """
                        <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                          <GetCallerIdentityResult><Arn>%s</Arn><UserId>AROAEXAMPLEROLEID1234:%s</UserId>
                            <Account>%s</Account></GetCallerIdentityResult>
                          <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
                        </GetCallerIdentityResponse>""".formatted(arn, TASK_ID, ACCOUNT))));
    }

    public static void describeTasks(WireMockExtension wm, String launchType, String lastStatus) {
        ecs(wm, "DescribeTasks", """
                {"tasks":[{"taskArn":"%s","clusterArn":"%s","containerInstanceArn":"%s",
                  "taskDefinitionArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/edge-agent:7",
                  "launchType":"%s","lastStatus":"%s","desiredStatus":"RUNNING","group":"service:edge-agent",
                  "startedAt":1.7634E9}],"failures":[]}""".formatted(TASK_ARN, CLUSTER_ARN, INSTANCE_ARN, launchType,
                lastStatus));
    }

    public static void describeContainerInstances(WireMockExtension wm, String instanceId, String status, boolean connected) {
        ecs(wm, "DescribeContainerInstances", """
                {"containerInstances":[{"containerInstanceArn":"%s","ec2InstanceId":"%s","status":"%s",
                  "agentConnected":%s,"attributes":[{"name":"ecs.capability.external"}],
                  "versionInfo":{"agentVersion":"1.89.0"}}],"failures":[]}""".formatted(INSTANCE_ARN, instanceId, status,
                connected));
    }

    public static void ecs(WireMockExtension wm, String operation, String json) {
        wm.stubFor(post("/").withHeader("X-Amz-Target", equalTo("AmazonEC2ContainerServiceV20141113." + operation))
                .willReturn(okForContentType("application/x-amz-json-1.1", json)));
    }

    public static void ecsError(WireMockExtension wm, String operation, String type, String message) {
        wm.stubFor(post("/").withHeader("X-Amz-Target", equalTo("AmazonEC2ContainerServiceV20141113." + operation))
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/x-amz-json-1.1")
                        .withBody("{\"__type\":\"" + type + "\",\"message\":\"" + message + "\"}")));
    }

    public static void secret(WireMockExtension wm, String secretId, String stage, String value) {
        wm.stubFor(post("/").withHeader("X-Amz-Target", equalTo("secretsmanager.GetSecretValue"))
                .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath("$.SecretId", equalTo(secretId)))
                .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath("$.VersionStage", equalTo(stage)))
                .willReturn(okForContentType("application/x-amz-json-1.1", """
                        {"ARN":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:%s-AbCdEf","Name":"%s",
                         "VersionId":"v-%s","SecretString":"%s","VersionStages":["%s"],"CreatedDate":1.7634E9}"""
                        .formatted(secretId, secretId, Integer.toHexString(value.hashCode()), value, stage))));
    }

    public static void secretError(WireMockExtension wm, String type, String message) {
        wm.stubFor(post("/").withHeader("X-Amz-Target", equalTo("secretsmanager.GetSecretValue"))
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/x-amz-json-1.1")
                        .withBody("{\"__type\":\"" + type + "\",\"Message\":\"" + message + "\"}")));
    }
}
