package io.edgetunnel.agent.tunnel;

import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * Where the hello's credentials come from. Asked once per connection attempt, so a rotated token or
 * a freshly signed identity proof is used on every reconnect. The default is the configured {@code
 * agent.token} and no identity proof; a bean of this type replaces it.
 *
 * <p>Subscribed on an event loop: implementations that block (file reads, AWS SDK calls, signing
 * with credentials from a provider) must move that work to {@code Schedulers.boundedElastic()}.
 */
@FunctionalInterface
public interface TunnelCredentials {

    Mono<Credentials> next();

    /** The secret parts of a hello; never logged. */
    record Credentials(String token, String identityProof) {
        public Credentials {
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(identityProof, "identityProof");
        }

        @Override
        public String toString() {
            return "Credentials[token=" + (token.isEmpty() ? "none" : "****") + ", identityProof="
                    + (identityProof.isEmpty() ? "none" : "****") + "]";
        }
    }

    static TunnelCredentials token(String token) {
        Credentials fixed = new Credentials(token, "");
        return () -> Mono.just(fixed);
    }
}
