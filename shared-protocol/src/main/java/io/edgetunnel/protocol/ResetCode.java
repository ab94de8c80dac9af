package io.edgetunnel.protocol;

/** Why a stream ended abnormally. Carried by {@link Frame.Reset}. */
public enum ResetCode {
    /** The requester went away (client disconnect, timeout); stop work and free resources. */
    CANCEL(1),
    /** The stream was not processed at all (draining, stream limit); safe to retry elsewhere. */
    REFUSED_STREAM(2),
    /** The agent could not connect to the local app. The ingress answers 502. */
    UPSTREAM_CONNECT_FAILED(3),
    /** The local app did not answer in time. The ingress answers 504. */
    UPSTREAM_TIMEOUT(4),
    /** The local app failed mid-exchange. The ingress answers 502 or aborts the response. */
    UPSTREAM_ERROR(5),
    /** The agent has no route for the request it was sent. The ingress answers 502. */
    NO_ROUTE(6),
    /** The peer sent more DATA than its window allowed. */
    FLOW_CONTROL_ERROR(7),
    /** The peer broke the stream state machine. */
    PROTOCOL_ERROR(8),
    INTERNAL_ERROR(9),
    /** The body exceeded a configured limit. The ingress answers 413. */
    BODY_TOO_LARGE(10);

    private final int code;

    ResetCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Unknown codes from a newer peer decode as {@link #INTERNAL_ERROR}. */
    public static ResetCode of(int code) {
        for (ResetCode reset : values()) {
            if (reset.code == code) {
                return reset;
            }
        }
        return INTERNAL_ERROR;
    }
}
