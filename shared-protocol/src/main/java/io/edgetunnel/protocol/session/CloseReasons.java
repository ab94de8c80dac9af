package io.edgetunnel.protocol.session;

import java.nio.charset.StandardCharsets;

/** WebSocket close reasons: at most 123 bytes of UTF-8 (RFC 6455 section 5.5.1). */
public final class CloseReasons {

    /** What we send at most, leaving room below the WebSocket limit. */
    public static final int MAX_BYTES = 120;

    private CloseReasons() {}

    /** {@code reason} cut to {@link #MAX_BYTES} bytes of UTF-8, never in the middle of a character. */
    public static String truncate(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_BYTES) {
            return reason;
        }
        String cut = new String(bytes, 0, MAX_BYTES, StandardCharsets.UTF_8);
        // a multi-byte character cut in half decodes as U+FFFD: drop it
        return cut.endsWith("\uFFFD") ? cut.substring(0, cut.length() - 1) : cut;
    }
}
