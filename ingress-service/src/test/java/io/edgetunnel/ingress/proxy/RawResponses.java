package io.edgetunnel.ingress.proxy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** HTTP/1.1 over a plain socket for the keep-alive tests: requests written raw, responses read one by one. */
final class RawResponses {

    private RawResponses() {
    }

    static String get(String host, String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    static void send(OutputStream out, String requests) throws IOException {
        out.write(requests.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One response: its head, then a body framed by Content-Length or chunks; returns the head. */
    static String read(InputStream in) throws IOException {
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
