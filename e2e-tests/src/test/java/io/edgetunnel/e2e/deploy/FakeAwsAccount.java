package io.edgetunnel.e2e.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One AWS account on loopback, as the services see it from ECS: the container credentials endpoint
 * and task metadata (what ECS itself provides a task), and the APIs the services call: STS {@code
 * GetCallerIdentity}, ECS {@code DescribeTasks} / {@code DescribeTaskDefinition} / {@code
 * DescribeContainerInstances}, Secrets Manager {@code GetSecretValue}, SSM {@code ListTagsForResource}.
 * It knows one agent task on one ECS Anywhere host, whose managed instance carries the tags it is given.
 */
final class FakeAwsAccount implements AutoCloseable {

    static final String ACCOUNT = "111122223333";
    static final String TASK_ID = "6c1f0e2d3b4a59687766554433221100";
    static final String INSTANCE_ID = "mi-0f1e2d3c4b5a69788";
    static final String ACCESS_KEY = "ASIAFAKEAWSACCOUNT01";
    static final String SESSION_TOKEN = "FakeAwsAccountSessionToken0123456789";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpServer server;
    private final String cluster;
    private final String agentRole;
    private final Map<String, String> secrets = new ConcurrentHashMap<>();
    private final Map<String, String> instanceTags = new ConcurrentHashMap<>();
    /** The STS requests that carried an agent's proof (they name a server id), header name → value. */
    private final List<Map<String, String>> replayedProofs = new CopyOnWriteArrayList<>();

    /** @param agentRole the agent task's role name, as the edge stack's AgentTaskRole would be named */
    FakeAwsAccount(String cluster, String agentRole) {
        this.cluster = cluster;
        this.agentRole = agentRole;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void secret(String arn, String value) {
        secrets.put(arn, value);
    }

    String secretValue(String arn) {
        String value = secrets.get(arn);
        if (value == null) {
            throw new IllegalArgumentException("no secret " + arn + " in this account " + secrets.keySet());
        }
        return value;
    }

    /** A tag of the host's SSM managed instance, as an operator sets it. */
    void instanceTag(String key, String value) {
        instanceTags.put(key, value);
    }

    List<Map<String, String>> replayedProofs() {
        return replayedProofs;
    }

    String taskArn() {
        return "arn:aws:ecs:eu-west-1:" + ACCOUNT + ":task/" + cluster + "/" + TASK_ID;
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = exchange.getRequestURI().getPath();
        String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
        if ("GET".equals(exchange.getRequestMethod()) && path.equals("/credentials")) {
            json(exchange, 200, """
                    {"RoleArn":"arn:aws:iam::%s:role/%s","AccessKeyId":"%s","SecretAccessKey":"fake/secret/key",
                     "Token":"%s","Expiration":"2099-01-01T00:00:00Z"}""".formatted(ACCOUNT, agentRole, ACCESS_KEY,
                    SESSION_TOKEN));
        } else if ("GET".equals(exchange.getRequestMethod()) && path.equals("/metadata/task")) {
            json(exchange, 200, """
                    {"Cluster":"%s","TaskARN":"%s","Family":"edge-agent","Revision":"1","DesiredStatus":"RUNNING",
                     "KnownStatus":"RUNNING","LaunchType":"EXTERNAL","Containers":[]}""".formatted(cluster, taskArn()));
        } else if (body.contains("Action=GetCallerIdentity")) {
            String serverId = exchange.getRequestHeaders().getFirst("X-Edge-Tunnel-Server-ID");
            if (serverId != null) {
                Map<String, String> headers = new ConcurrentHashMap<>();
                exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(), values.get(0)));
                replayedProofs.add(headers);
            }
            reply(exchange, 200, "text/xml", """
                    <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
                    <Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn><UserId>AROAFAKEAGENTROLE0001:%s</UserId>
                    <Account>%s</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"""
                    .formatted(ACCOUNT, agentRole, TASK_ID, TASK_ID, ACCOUNT));
        } else if (target != null && target.startsWith("AmazonEC2ContainerServiceV20141113.")) {
            ecs(exchange, target.substring(target.indexOf('.') + 1));
        } else if ("AmazonSSM.ListTagsForResource".equals(target)) {
            listTags(exchange, JSON.readTree(body));
        } else if ("secretsmanager.GetSecretValue".equals(target)) {
            getSecretValue(exchange, JSON.readTree(body));
        } else {
            json(exchange, 400, "{\"__type\":\"UnknownOperationException\",\"message\":\"" + target + " " + path + "\"}");
        }
    }

    private void ecs(HttpExchange exchange, String operation) throws IOException {
        String instanceArn = "arn:aws:ecs:eu-west-1:" + ACCOUNT + ":container-instance/" + cluster + "/4b6d5e1f";
        String definition = "arn:aws:ecs:eu-west-1:" + ACCOUNT + ":task-definition/edge-agent:1";
        switch (operation) {
            case "DescribeTasks" -> json(exchange, 200, """
                    {"tasks":[{"taskArn":"%s","clusterArn":"arn:aws:ecs:eu-west-1:%s:cluster/%s","taskDefinitionArn":"%s",
                      "containerInstanceArn":"%s","launchType":"EXTERNAL","lastStatus":"RUNNING","desiredStatus":"RUNNING",
                      "group":"service:edge-agent"}],"failures":[]}""".formatted(taskArn(), ACCOUNT, cluster, definition,
                    instanceArn));
            case "DescribeTaskDefinition" -> json(exchange, 200, """
                    {"taskDefinition":{"taskDefinitionArn":"%s","family":"edge-agent","revision":1,
                      "taskRoleArn":"arn:aws:iam::%s:role/%s"}}""".formatted(definition, ACCOUNT, agentRole));
            case "DescribeContainerInstances" -> json(exchange, 200, """
                    {"containerInstances":[{"containerInstanceArn":"%s","ec2InstanceId":"%s","status":"ACTIVE",
                      "agentConnected":true,"attributes":[{"name":"ecs.capability.external"}]}],"failures":[]}"""
                    .formatted(instanceArn, INSTANCE_ID));
            default -> json(exchange, 400, "{\"__type\":\"InvalidParameterException\",\"message\":\"" + operation + "\"}");
        }
    }

    private void listTags(HttpExchange exchange, JsonNode request) throws IOException {
        if (!INSTANCE_ID.equals(request.get("ResourceId").asString())
                || !"ManagedInstance".equals(request.get("ResourceType").asString())) {
            json(exchange, 400, "{\"__type\":\"InvalidResourceId\",\"message\":\"no such managed instance\"}");
            return;
        }
        StringBuilder tags = new StringBuilder();
        instanceTags.forEach((key, value) -> tags.append(tags.length() == 0 ? "" : ",")
                .append("{\"Key\":\"").append(key).append("\",\"Value\":\"").append(value).append("\"}"));
        json(exchange, 200, "{\"TagList\":[" + tags + "]}");
    }

    private void getSecretValue(HttpExchange exchange, JsonNode request) throws IOException {
        String id = request.get("SecretId").asString();
        JsonNode stageNode = request.get("VersionStage");
        String stage = stageNode == null ? "AWSCURRENT" : stageNode.asString();
        String value = secrets.get(id);
        if (value == null || !"AWSCURRENT".equals(stage)) {
            json(exchange, 400, "{\"__type\":\"ResourceNotFoundException\",\"Message\":\"Secrets Manager can't find the "
                    + "specified secret" + (value == null ? "." : " value for staging label: " + stage) + "\"}");
            return;
        }
        json(exchange, 200, """
                {"ARN":"%s","Name":"secret","VersionId":"v1","SecretString":"%s","VersionStages":["AWSCURRENT"],
                 "CreatedDate":1.7634E9}""".formatted(id, value));
    }

    private static void json(HttpExchange exchange, int status, String body) throws IOException {
        reply(exchange, status, "application/x-amz-json-1.1", body);
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
