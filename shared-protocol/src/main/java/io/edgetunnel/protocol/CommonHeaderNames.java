package io.edgetunnel.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The header names most requests and responses carry, each as one shared {@code String}: the decoder
 * hands out these instead of decoding a new one per field and frame (issue 18: decoded header strings
 * were the largest part of the bytes each small request allocates). Names match byte for byte, case
 * included, so a field's name is exactly what was sent; anything else is decoded as before.
 */
final class CommonHeaderNames {

    private static final List<String> NAMES = List.of(
            // requests
            "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Accept-Charset", "Authorization",
            "Cookie", "Referer", "Origin", "Content-Type", "Content-Length", "Content-Encoding", "Cache-Control",
            "Pragma", "Connection", "If-None-Match", "If-Modified-Since", "Range", "Expect", "TE", "Upgrade",
            "Upgrade-Insecure-Requests", "X-Requested-With", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest",
            "Sec-Fetch-User", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
            "X-Forwarded-Port", "Forwarded", "X-Request-Id", "X-Real-IP",
            // responses
            "Server", "Date", "Last-Modified", "ETag", "Etag", "Accept-Ranges", "Set-Cookie", "Vary", "Expires",
            "Location", "Keep-Alive", "Transfer-Encoding", "Content-Disposition", "Content-Range", "Age",
            "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
            "Access-Control-Allow-Methods", "Access-Control-Expose-Headers", "Strict-Transport-Security",
            "X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Retry-After",
            "Sec-WebSocket-Accept", "grpc-status", "grpc-message", "grpc-encoding", "grpc-accept-encoding");

    /** By length: the names of that length and their UTF-8 (here ASCII) bytes. */
    private static final String[][] BY_LENGTH;

    private static final byte[][][] BYTES_BY_LENGTH;

    static {
        // HTTP/2 and many clients send names in lower case: both spellings are common
        Set<String> all = new LinkedHashSet<>(NAMES);
        for (String name : NAMES) {
            all.add(name.toLowerCase(Locale.ROOT));
        }
        int max = all.stream().mapToInt(String::length).max().orElse(0);
        List<List<String>> grouped = new ArrayList<>();
        for (int i = 0; i <= max; i++) {
            grouped.add(new ArrayList<>());
        }
        all.forEach(name -> grouped.get(name.length()).add(name));
        BY_LENGTH = new String[max + 1][];
        BYTES_BY_LENGTH = new byte[max + 1][][];
        for (int i = 0; i <= max; i++) {
            BY_LENGTH[i] = grouped.get(i).toArray(String[]::new);
            BYTES_BY_LENGTH[i] = Arrays.stream(BY_LENGTH[i])
                    .map(name -> name.getBytes(StandardCharsets.US_ASCII))
                    .toArray(byte[][]::new);
        }
    }

    private CommonHeaderNames() {}

    /** The shared name whose bytes are the {@code length} bytes of {@code buf} at {@code index}, or null. */
    static String lookup(ByteBuf buf, int index, int length) {
        if (length >= BY_LENGTH.length || BYTES_BY_LENGTH[length].length == 0) {
            return null;
        }
        byte[] name = new byte[length];
        buf.getBytes(index, name);
        return lookup(name);
    }

    /**
     * The shared name whose bytes are {@code name}, or null. Arrays, not a buffer's bytes one call at a
     * time: with only the C1 compiler (the agent's image) those calls were 5 % of its CPU per request.
     */
    static String lookup(byte[] name) {
        int length = name.length;
        if (length >= BY_LENGTH.length) {
            return null;
        }
        byte[][] candidates = BYTES_BY_LENGTH[length];
        for (int c = 0; c < candidates.length; c++) {
            if (Arrays.equals(name, candidates[c])) {
                return BY_LENGTH[length][c];
            }
        }
        return null;
    }

    /** The shared name equal to {@code name} (case included), or null. */
    static String lookup(CharSequence name) {
        int length = name.length();
        if (length >= BY_LENGTH.length) {
            return null;
        }
        for (String candidate : BY_LENGTH[length]) {
            if (candidate.contentEquals(name)) {
                return candidate;
            }
        }
        return null;
    }

    /** Every shared name, for tests. */
    static List<String> all() {
        return Arrays.stream(BY_LENGTH).flatMap(Arrays::stream).toList();
    }
}
