package io.edgetunnel.agent.identity;

import java.util.Objects;

/** One self-check failed; the message says which and what was expected. Never carries credentials. */
public final class IdentityCheckException extends RuntimeException {

    /** The checks, in the order they run. */
    public enum Check {
        CONFIGURATION,
        TASK_METADATA,
        CALLER_IDENTITY,
        DESCRIBE_TASKS,
        CONTAINER_INSTANCE
    }

    private final Check check;

    public IdentityCheckException(Check check, String message) {
        super(check.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ": "
                + Objects.requireNonNull(message, "message"), null, false, false);
        this.check = check;
    }

    public Check check() {
        return check;
    }
}
