package io.edgetunnel.agent.identity;

import io.edgetunnel.agent.aws.AwsClients;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Runs the ECS Anywhere self-check according to {@code agent.identity.mode}:
 *
 * <ul>
 *   <li>{@code verify}: any failed check is an {@link IdentityCheckException}; at startup it stops the
 *       agent before a tunnel is opened.
 *   <li>{@code warn}: a failed check is logged as a warning; the agent runs, announced unverified.
 *   <li>{@code off}: nothing is checked; a warning at start; announced unverified.
 * </ul>
 *
 * The check itself blocks (HTTP, AWS SDK), so it always runs on {@code Schedulers.boundedElastic()}.
 */
public final class IdentitySelfCheck {

    private static final Logger log = LoggerFactory.getLogger(IdentitySelfCheck.class);

    private final IdentityProperties properties;
    private final Supplier<AwsClients> aws;

    /** @param aws supplies the clients only when a check runs, so {@code off} needs no AWS setup */
    public IdentitySelfCheck(IdentityProperties properties, Supplier<AwsClients> aws) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.aws = Objects.requireNonNull(aws, "aws");
    }

    /** The check, off the event loop. Errors only in {@code verify} mode. */
    public Mono<IdentityStatus> check() {
        IdentityMode mode = properties.mode();
        if (mode == IdentityMode.OFF) {
            log.warn("ECS Anywhere identity self-check is off (agent.identity.mode=off): this agent announces "
                    + "itself unverified; use only for local development");
            return Mono.just(IdentityStatus.unverified(mode, "self-check off"));
        }
        Duration timeout = properties.timeout();
        return Mono.fromCallable(() -> new EcsIdentityCheck(properties, new TaskMetadataClient(timeout), aws.get()).run())
                .subscribeOn(Schedulers.boundedElastic())
                .timeout(timeout, Mono.error(() -> new IdentityCheckException(IdentityCheckException.Check.CONFIGURATION,
                        "self-check took longer than " + timeout + " (expected: agent.identity.timeout)")))
                .map(identity -> {
                    log.info("ECS Anywhere identity verified: role {}, task {}, instance {}",
                            identity.roleArn(), identity.taskArn(), identity.managedInstanceId());
                    return IdentityStatus.verified(mode, identity);
                })
                .onErrorResume(e -> {
                    String problem = e instanceof IdentityCheckException ? e.getMessage()
                            : "unexpected " + e.getClass().getSimpleName();
                    if (mode == IdentityMode.VERIFY) {
                        return Mono.error(e instanceof IdentityCheckException ? e
                                : new IdentityCheckException(IdentityCheckException.Check.CONFIGURATION, problem));
                    }
                    log.warn("ECS Anywhere identity self-check failed, continuing unverified "
                            + "(agent.identity.mode=warn): {}", problem);
                    return Mono.just(IdentityStatus.unverified(mode, problem));
                });
    }

    /**
     * For startup: blocks the calling (main) thread until the check is done.
     *
     * @throws IllegalStateException in {@code verify} mode when a check failed, naming the check
     */
    public IdentityStatus checkAtStartup() {
        try {
            return check().block();
        } catch (IdentityCheckException e) {
            throw new IllegalStateException("ECS Anywhere identity self-check failed (agent.identity.mode=verify; "
                    + "set AGENT_IDENTITY_MODE=warn or off only for local use): " + e.getMessage(), e);
        }
    }
}
