package io.edgetunnel.e2e.support;

import io.edgetunnel.testsupport.ThreadDump;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real public WebSocket client (the JDK's {@link java.net.http.WebSocket}) on the ingress's public
 * port. Received messages are reassembled from their fragments; each fragment is also recorded, so
 * tests can see how a message was framed.
 */
public final class WsClient implements AutoCloseable {

    /** A whole message: text or binary, and how many fragments it came in. */
    public record Message(boolean text, byte[] data, int fragments) {
        public String string() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    public record Close(int code, String reason) {}

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private final WebSocket socket;
    private final Listener listener;

    private WsClient(WebSocket socket, Listener listener) {
        this.socket = socket;
        this.listener = listener;
    }

    /** Opens {@code ws://127.0.0.1:<public port><path>}; fails with the handshake's exception. */
    public static WsClient open(IngressNode ingress, String path, String... subprotocols) {
        return connect(ingress, path, subprotocols).join();
    }

    public static CompletableFuture<WsClient> connect(IngressNode ingress, String path, String... subprotocols) {
        return connect(ingress, path, java.util.Map.of(), true, subprotocols);
    }

    /**
     * @param headers extra handshake headers
     * @param reading false for a client that takes one message and then stops reading its socket
     */
    public static CompletableFuture<WsClient> connect(IngressNode ingress, String path,
            java.util.Map<String, String> headers, boolean reading, String... subprotocols) {
        Listener listener = new Listener(reading);
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        headers.forEach(builder::header);
        if (subprotocols.length > 0) {
            builder.subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
        }
        return builder.buildAsync(URI.create("ws://127.0.0.1:" + ingress.publicPort() + path), listener)
                .thenApply(socket -> new WsClient(socket, listener));
    }

    /** Opens {@code ws://127.0.0.1:<port><path>}: a balancer in front of the replicas. */
    public static CompletableFuture<WsClient> connect(int port, String path) {
        Listener listener = new Listener(true);
        return HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("ws://127.0.0.1:" + port + path), listener)
                .thenApply(socket -> new WsClient(socket, listener));
    }

    /** The next message within {@code millis}, or null. */
    public Message pollMessage(long millis) throws InterruptedException {
        return listener.messages.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** The close the server sent, if any yet (1006 for a connection lost without one). */
    public Close pollClose() {
        return listener.closes.peek();
    }

    public WebSocket socket() {
        return socket;
    }

    public String subprotocol() {
        return socket.getSubprotocol();
    }

    public void sendText(String text) {
        socket.sendText(text, true).join();
    }

    public void sendBinary(byte[] data) {
        socket.sendBinary(ByteBuffer.wrap(data), true).join();
    }

    /** Sends {@code parts} as one fragmented text message. */
    public void sendTextFragments(List<String> parts) {
        for (int i = 0; i < parts.size(); i++) {
            socket.sendText(parts.get(i), i == parts.size() - 1).join();
        }
    }

    public void ping(byte[] payload) {
        socket.sendPing(ByteBuffer.wrap(payload)).join();
    }

    public void close(int code, String reason) {
        socket.sendClose(code, reason).join();
    }

    public Message nextMessage() throws InterruptedException {
        return nextMessage(60);
    }

    public Message nextMessage(int seconds) throws InterruptedException {
        Message message = listener.messages.poll(seconds, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("no message within " + seconds + " s; threads:\n" + ThreadDump.all());
        }
        return message;
    }

    public byte[] nextPong() throws InterruptedException {
        byte[] pong = listener.pongs.poll(60, TimeUnit.SECONDS);
        if (pong == null) {
            throw new AssertionError("no pong within 60 s; threads:\n" + ThreadDump.all());
        }
        return pong;
    }

    public Close awaitClose() throws InterruptedException {
        Close close = listener.closes.poll(60, TimeUnit.SECONDS);
        if (close == null) {
            throw new AssertionError("no close within 60 s; threads:\n" + ThreadDump.all());
        }
        return close;
    }

    @Override
    public void close() {
        socket.abort();
    }

    private static final class Listener implements WebSocket.Listener {
        // filled on event loops: lock-free handover, never a park BlockHound would fail (see FakeAgent)
        final BlockingQueue<Message> messages = new LinkedTransferQueue<>();
        final BlockingQueue<byte[]> pongs = new LinkedTransferQueue<>();
        final BlockingQueue<Close> closes = new LinkedTransferQueue<>();
        private final boolean reading;
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private final StringBuilder text = new StringBuilder();
        private int fragments;

        Listener(boolean reading) {
            this.reading = reading;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            fragments++;
            if (last) {
                messages.add(new Message(true, text.toString().getBytes(StandardCharsets.UTF_8), fragments));
                text.setLength(0);
                fragments = 0;
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            partial.writeBytes(bytes);
            fragments++;
            if (last) {
                messages.add(new Message(false, partial.toByteArray(), fragments));
                partial.reset();
                fragments = 0;
            }
            if (reading || !last) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            byte[] bytes = new byte[message.remaining()];
            message.get(bytes);
            pongs.add(bytes);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closes.add(new Close(statusCode, reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closes.add(new Close(1006, String.valueOf(error)));
        }
    }
}
