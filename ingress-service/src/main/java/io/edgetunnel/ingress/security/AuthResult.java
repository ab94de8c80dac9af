package io.edgetunnel.ingress.security;

import io.edgetunnel.protocol.RejectReason;
import java.util.Objects;

/** Outcome of {@link AgentAuthenticator#authenticate}. */
public sealed interface AuthResult {

    /** @param principal who the agent proved to be (agent id for the shared token; a role ARN later) */
    record Authenticated(String principal) implements AuthResult {
        public Authenticated {
            Objects.requireNonNull(principal, "principal");
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
