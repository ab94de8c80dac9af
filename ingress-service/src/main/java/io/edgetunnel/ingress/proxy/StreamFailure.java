package io.edgetunnel.ingress.proxy;

import io.edgetunnel.protocol.ResetCode;

/**
 * Why a stream ended before or during its response. Errors the response body when headers are
 * already out, so that the client connection is aborted rather than cleanly truncated.
 */
final class StreamFailure extends RuntimeException {

    enum Kind {
        RESET,
        TUNNEL_LOST,
        /** The tunnel closed or began draining before the REQUEST went out: nothing reached the agent. */
        NOT_SENT,
        BODY_TOO_LARGE,
        CLIENT_ABORT
    }

    private final Kind kind;
    private final ResetCode resetCode;

    StreamFailure(Kind kind, ResetCode resetCode, String message) {
        super(message, null, false, false);
        this.kind = kind;
        this.resetCode = resetCode;
    }

    Kind kind() {
        return kind;
    }

    /** For {@link Kind#RESET}: the agent's code. */
    ResetCode resetCode() {
        return resetCode;
    }
}
