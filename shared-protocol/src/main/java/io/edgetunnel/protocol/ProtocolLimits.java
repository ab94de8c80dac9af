package io.edgetunnel.protocol;

/**
 * Hard limits the decoder enforces. Input beyond any of them is a {@link ProtocolException} with
 * {@link CloseCode#FRAME_TOO_LARGE}, before anything is allocated for it.
 *
 * @param maxFrameBytes whole frame, header included (also the WebSocket max payload)
 * @param maxHeaderCount header fields in one Request, Response or Trailers frame (also the
 *     attribute count in a hello)
 * @param maxHeaderBytes sum of the UTF-8 byte lengths of header names and values in one frame
 * @param maxRoutes route claims in one hello
 * @param maxStringBytes any single string, in UTF-8 bytes: header names and values as well as
 *     method, target, agent id, token, identity proof and messages
 */
public record ProtocolLimits(
        int maxFrameBytes, int maxHeaderCount, int maxHeaderBytes, int maxRoutes, int maxStringBytes) {

    public static final int DEFAULT_MAX_FRAME_BYTES = 256 * 1024;

    public static final ProtocolLimits DEFAULTS =
            new ProtocolLimits(DEFAULT_MAX_FRAME_BYTES, 200, 64 * 1024, 256, 16 * 1024);

    public ProtocolLimits {
        requireAtLeast(maxFrameBytes, 1024, "maxFrameBytes");
        requireAtLeast(maxHeaderCount, 1, "maxHeaderCount");
        requireAtLeast(maxHeaderBytes, 1, "maxHeaderBytes");
        requireAtLeast(maxRoutes, 1, "maxRoutes");
        requireAtLeast(maxStringBytes, 64, "maxStringBytes");
    }

    /** Largest DATA payload that fits in one frame. */
    public int maxDataPayload() {
        return maxFrameBytes - FrameCodec.HEADER_BYTES;
    }

    private static void requireAtLeast(int value, int min, String name) {
        if (value < min) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: >= " + min + ")");
        }
    }
}
