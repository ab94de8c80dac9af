package io.edgetunnel.protocol;

import java.util.Objects;

/**
 * Input that breaks the protocol. Carries the close code the receiver must close the tunnel with;
 * the message says what was expected and is safe to log (it never quotes credentials).
 */
public final class ProtocolException extends RuntimeException {

    private final CloseCode closeCode;

    public ProtocolException(CloseCode closeCode, String message) {
        super(message, null, false, false);
        this.closeCode = Objects.requireNonNull(closeCode, "closeCode");
    }

    public CloseCode closeCode() {
        return closeCode;
    }
}
