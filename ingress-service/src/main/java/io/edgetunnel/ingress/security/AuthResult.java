package io.edgetunnel.ingress.security;

import io.edgetunnel.protocol.RejectReason;
import java.util.Objects;

/** Outcome of {@link AgentAuthenticator#authenticate}. */
public sealed interface AuthResult {

    /**
     * @param principal who the agent proved to be ({@code token:NAME} for a token, the role ARN for IAM)
     * @param method how it was verified: {@code token}, {@code iam} or {@code token-and-iam}
     */
    record Authenticated(String principal, String method) implements AuthResult {
        public Authenticated {
            Objects.requireNonNull(principal, "principal");
            Objects.requireNonNull(method, "method");
        }

        public Authenticated(String principal) {
            this(principal, "token");
        }
    }

    /** @param message safe to send to the agent and to log; never quotes a credential */
    record Rejected(RejectReason reason, String message) implements AuthResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }
    }
}
