package io.edgetunnel.agent.proxy;

import io.edgetunnel.protocol.ResetCode;
import java.util.Objects;

/** A local exchange failed; {@link #resetCode()} is what the tunnel stream is reset with. */
public final class LocalExchangeException extends RuntimeException {

    private final ResetCode resetCode;

    public LocalExchangeException(ResetCode resetCode, String message, Throwable cause) {
        super(message, cause, false, false);
        this.resetCode = Objects.requireNonNull(resetCode, "resetCode");
    }

    public ResetCode resetCode() {
        return resetCode;
    }
}
