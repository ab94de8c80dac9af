package io.edgetunnel.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.netty.DisposableServer;

class DemoAppIntegrationTests {

    private static DisposableServer server;
    private static final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        server = DemoApp.start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        server.disposeNow();
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    @Test
    void pageShowsTheHeadersTheAppReceived() throws Exception {
        var response = client.send(
                HttpRequest.newBuilder(uri("/")).header("X-Forwarded-For", "203.0.113.9").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("Hello from the demo app").contains("203.0.113.9");
    }

    @Test
    void echoReturnsTheRequestBody() throws Exception {
        var response = client.send(
                HttpRequest.newBuilder(uri("/echo")).POST(HttpRequest.BodyPublishers.ofString("ping-body")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("ping-body");
    }

    @Test
    void eventsStreamTheRequestedCount() throws Exception {
        var response = client.send(
                HttpRequest.newBuilder(uri("/events?count=3&intervalMillis=5")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream");
        assertThat(response.body().split("\n\n")).hasSize(3);
    }

    @Test
    void downloadHasTheAnnouncedLength() throws Exception {
        var response = client.send(
                HttpRequest.newBuilder(uri("/download?mib=2")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.body()).hasSize(2 * 1024 * 1024);
    }

    @Test
    void webSocketEchoesTextAndBinary() throws Exception {
        List<Object> received = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> two = new CompletableFuture<>();
        WebSocket socket = client.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/ws"), new WebSocket.Listener() {
                    @Override
                    public CompletableFuture<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        received.add(data.toString());
                        if (received.size() == 2) {
                            two.complete(null);
                        }
                        ws.request(1);
                        return null;
                    }

                    @Override
                    public CompletableFuture<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                        received.add(data.remaining());
                        if (received.size() == 2) {
                            two.complete(null);
                        }
                        ws.request(1);
                        return null;
                    }
                })
                .get(5, TimeUnit.SECONDS);
        socket.sendText("hi", true).get(5, TimeUnit.SECONDS);
        socket.sendBinary(ByteBuffer.wrap(new byte[1000]), true).get(5, TimeUnit.SECONDS);
        two.get(5, TimeUnit.SECONDS);
        assertThat(received).containsExactly("hi", 1000);
        socket.abort();
    }
}
