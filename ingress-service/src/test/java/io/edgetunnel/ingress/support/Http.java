package io.edgetunnel.ingress.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;
import io.netty.handler.codec.http.HttpHeaders;

/** Small HTTP helpers for tests: a Reactor Netty client with a chosen Host, and raw sockets. */
public final class Http {

    private Http() {}

    public record Reply(int status, HttpHeaders headers, String body) {}

    public static HttpClient client(int port, String host) {
        return HttpClient.create()
                .port(port)
                .host("127.0.0.1")
                .headers(h -> h.set("Host", host))
                .responseTimeout(Duration.ofSeconds(20));
    }

    public static Reply get(int port, String host, String path) {
        return client(port, host).get().uri(path).responseSingle(Http::reply).block(Duration.ofSeconds(30));
    }

    public static Mono<Reply> reply(HttpClientResponse response, reactor.netty.ByteBufMono body) {
        return body.asString(StandardCharsets.UTF_8)
                .defaultIfEmpty("")
                .map(text -> new Reply(response.status().code(), response.responseHeaders(), text));
    }

    /** Writes {@code request} verbatim and returns what the server sends until it closes or goes quiet. */
    public static String raw(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                int read;
                while ((read = in.read(buffer)) > 0) {
                    response.write(buffer, 0, read);
                    if (response.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")
                            && response.size() > 0 && isComplete(response.toString(StandardCharsets.ISO_8859_1))) {
                        break;
                    }
                }
            } catch (java.net.SocketTimeoutException e) {
                // whatever arrived is the answer
            }
            return response.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static boolean isComplete(String response) {
        int end = response.indexOf("\r\n\r\n");
        String head = response.substring(0, end).toLowerCase(java.util.Locale.ROOT);
        int index = head.indexOf("content-length:");
        if (index < 0) {
            return true;
        }
        int lineEnd = head.indexOf("\r\n", index);
        String value = head.substring(index + 15, lineEnd < 0 ? head.length() : lineEnd).trim();
        return response.length() - end - 4 >= Integer.parseInt(value);
    }
}
