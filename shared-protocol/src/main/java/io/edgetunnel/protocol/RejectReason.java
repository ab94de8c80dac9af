package io.edgetunnel.protocol;

/** Why the ingress refused a hello. Sent in {@link Frame.Reject}; also the Prometheus tag value. */
public enum RejectReason {
    UNSUPPORTED_VERSION(1),
    BAD_CREDENTIALS(2),
    HOST_NOT_ALLOWED(3),
    TOO_MANY_ROUTES(4),
    INVALID_HELLO(5),
    IDENTITY_UNVERIFIED(6),
    RATE_LIMITED(7),
    SHUTTING_DOWN(8),
    TOO_MANY_TUNNELS(9);

    private final int code;

    RejectReason(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Unknown codes from a newer peer decode as {@link #INVALID_HELLO} rather than failing. */
    public static RejectReason of(int code) {
        for (RejectReason reason : values()) {
            if (reason.code == code) {
                return reason;
            }
        }
        return INVALID_HELLO;
    }
}
