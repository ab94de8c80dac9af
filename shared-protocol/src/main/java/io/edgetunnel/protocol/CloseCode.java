package io.edgetunnel.protocol;

/** WebSocket close status codes the tunnel uses (RFC 6455 private range 4000–4999 for ours). */
public enum CloseCode {
    NORMAL(1000),
    /** Orderly shutdown or drain finished; reconnect (to another replica) with backoff. */
    GOING_AWAY(1001),
    /** A frame could not be decoded, or a frame arrived that the state machine does not allow. */
    PROTOCOL_ERROR(4000),
    /** A frame exceeded the frame, header or string limits. */
    FRAME_TOO_LARGE(4001),
    /** The peer stayed silent for longer than the heartbeat timeout. */
    HEARTBEAT_TIMEOUT(4002),
    /** No hello within the handshake timeout. */
    HELLO_TIMEOUT(4003),
    /** The peer sent DATA beyond the window it was granted. */
    FLOW_CONTROL_ERROR(4004),
    /** The peer exceeded the concurrent stream limit or used a stream id it did not own. */
    STREAM_ERROR(4005),
    /** The hello was rejected; the preceding {@link Frame.Reject} says why. */
    REJECTED(4010),
    /** The peer did not read its frames fast enough and its outbound queue hit the limit. */
    SLOW_CONSUMER(4011),
    INTERNAL_ERROR(4500);

    private final int code;

    CloseCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static CloseCode of(int code) {
        for (CloseCode close : values()) {
            if (close.code == code) {
                return close;
            }
        }
        return code >= 4000 ? PROTOCOL_ERROR : NORMAL;
    }
}
