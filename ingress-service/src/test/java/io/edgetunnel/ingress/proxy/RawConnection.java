package io.edgetunnel.ingress.proxy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * One kept-alive HTTP/1.1 connection over a plain socket, for the keep-alive tests: requests written
 * raw (pipelined when sent together), responses read one by one.
 */
final class RawConnection implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    /** @param readTimeout how long one read may wait: a connection that stopped reading fails there */
    RawConnection(int port, Duration readTimeout) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout((int) readTimeout.toMillis());
        out = socket.getOutputStream();
        in = new BufferedInputStream(socket.getInputStream());
    }

    static String get(String host, String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    void send(String requests) throws IOException {
        out.write(requests.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** The next byte, -1 at the end of the stream, -2 when the read timed out (still open). */
    int nextByteOrEnd() throws IOException {
        try {
            return in.read();
        } catch (SocketTimeoutException stillOpen) {
            return -2;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** The next response: its head, then a body framed by Content-Length or chunks; returns the head. */
    String read() throws IOException {
        StringBuilder head = new StringBuilder();
        long length = 0;
        boolean chunked = false;
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            head.append(line).append("\r\n");
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring("content-length:".length()).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        if (!chunked) {
            skip(in, length);
            return head.toString();
        }
        for (long size = chunkSize(readLine(in)); size > 0; size = chunkSize(readLine(in))) {
            skip(in, size);
            readLine(in);
        }
        while (!readLine(in).isEmpty()) {
            // trailer fields
        }
        return head.toString();
    }

    private static long chunkSize(String line) {
        return Long.parseLong(line.split(";")[0].trim(), 16);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("connection closed mid-response");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    private static void skip(InputStream in, long count) throws IOException {
        for (long i = 0; i < count; i++) {
            if (in.read() < 0) {
                throw new EOFException("connection closed mid-body");
            }
        }
    }
}
