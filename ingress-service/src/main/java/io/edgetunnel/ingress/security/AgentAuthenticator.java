package io.edgetunnel.ingress.security;

import io.edgetunnel.protocol.Frame;
import reactor.core.publisher.Mono;

/**
 * Decides who an agent is from its hello, before it may claim a route. Asynchronous so that modes
 * which call out (Secrets Manager, STS) can run off the event loop.
 */
@FunctionalInterface
public interface AgentAuthenticator {

    Mono<AuthResult> authenticate(Frame.Hello hello);

    /**
     * As {@link #authenticate(Frame.Hello)}, knowing where the hello came from, so failed hellos can
     * be rate-limited per source.
     */
    default Mono<AuthResult> authenticate(Frame.Hello hello, HelloSource source) {
        return authenticate(hello);
    }

    /**
     * A connection from {@code source} failed before its hello was verified (no hello in time, a
     * protocol error, a hello refused on its form): counted like a failed hello.
     */
    default void failedBeforeVerification(HelloSource source) {}
}
