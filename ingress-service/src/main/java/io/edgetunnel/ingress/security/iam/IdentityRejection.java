package io.edgetunnel.ingress.security.iam;

import io.edgetunnel.protocol.RejectReason;
import java.util.Objects;

/**
 * A proof or identity was not accepted. The message is safe to send to the agent and to log: it
 * names the failed rule and what was expected, never a signature, token or key.
 */
public final class IdentityRejection extends RuntimeException {

    private final RejectReason reason;

    public IdentityRejection(RejectReason reason, String message) {
        super(Objects.requireNonNull(message, "message"), null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public RejectReason reason() {
        return reason;
    }
}
