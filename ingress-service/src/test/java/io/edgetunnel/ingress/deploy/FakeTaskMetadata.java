package io.edgetunnel.ingress.deploy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ECS task metadata endpoint v4 as a container sees it: {@code GET <base>/task} answers a JSON
 * document, on a random loopback port. The base has a per-container path, as ECS's does.
 */
final class FakeTaskMetadata implements AutoCloseable {

    static final String FARGATE_TASK = resource("task-metadata-v4-fargate.json");
    static final String FARGATE_TASK_ARN =
            "arn:aws:ecs:eu-west-1:111122223333:task/edge-tunnel-prod/e9028f8d5d8e4f258373e7b93ce9a3c3";
    static final String FARGATE_CLUSTER = "arn:aws:ecs:eu-west-1:111122223333:cluster/edge-tunnel-prod";

    private static final String PATH = "/v4/e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603";

    private final HttpServer server;
    private final AtomicInteger reads = new AtomicInteger();
    private volatile int status = 200;
    private volatile String body;

    FakeTaskMetadata(String body) {
        this.body = body;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext(PATH + "/task", exchange -> {
            reads.incrementAndGet();
            byte[] bytes = this.body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
    }

    /** What ECS puts in {@code ECS_CONTAINER_METADATA_URI_V4}. */
    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + PATH);
    }

    void answer(int status, String body) {
        this.status = status;
        this.body = body;
    }

    int reads() {
        return reads.get();
    }

    static String resource(String name) {
        try (InputStream in = FakeTaskMetadata.class.getResourceAsStream("/deploy/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource /deploy/" + name + " missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
