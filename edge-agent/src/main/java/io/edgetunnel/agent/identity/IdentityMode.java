package io.edgetunnel.agent.identity;

/** What the agent does with its ECS Anywhere self-check ({@code agent.identity.mode}). */
public enum IdentityMode {
    /** Run the check; any failure stops the agent from starting. The default. */
    VERIFY,
    /** Run the check; a failure is logged as a warning and the agent announces itself unverified. */
    WARN,
    /** Skip the check (local use); warns at start and announces itself unverified. */
    OFF
}
