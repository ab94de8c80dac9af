package io.edgetunnel.agent.identity;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Result of the self-check as the agent announces it. The hello attributes let the ingress admin
 * listing show an agent that runs unverified ({@code warn} or {@code off}).
 *
 * @param identity present only when every check passed
 * @param problem why the agent is unverified; empty when verified
 */
public record IdentityStatus(IdentityMode mode, Optional<AgentIdentity> identity, String problem) {

    /** Hello attribute: {@code true} only when the self-check passed. */
    public static final String VERIFIED_ATTRIBUTE = "identity.verified";

    /** Hello attribute: the configured mode, lower case. */
    public static final String MODE_ATTRIBUTE = "identity.mode";

    /** Hello attribute: the task ARN when verified. */
    public static final String TASK_ATTRIBUTE = "identity.task-arn";

    /** Hello attribute: the SSM managed instance id when verified. */
    public static final String INSTANCE_ATTRIBUTE = "identity.instance";

    public IdentityStatus {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(identity, "identity");
        problem = problem == null ? "" : problem;
    }

    public static IdentityStatus verified(IdentityMode mode, AgentIdentity identity) {
        return new IdentityStatus(mode, Optional.of(identity), "");
    }

    public static IdentityStatus unverified(IdentityMode mode, String problem) {
        return new IdentityStatus(mode, Optional.empty(), problem);
    }

    public boolean verified() {
        return identity.isPresent();
    }

    public Map<String, String> helloAttributes() {
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put(VERIFIED_ATTRIBUTE, Boolean.toString(verified()));
        attributes.put(MODE_ATTRIBUTE, mode.name().toLowerCase(java.util.Locale.ROOT));
        identity.ifPresent(id -> {
            attributes.put(TASK_ATTRIBUTE, id.taskArn());
            attributes.put(INSTANCE_ATTRIBUTE, id.managedInstanceId());
        });
        return Map.copyOf(attributes);
    }
}
