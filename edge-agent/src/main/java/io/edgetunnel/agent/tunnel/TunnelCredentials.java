package io.edgetunnel.agent.tunnel;

import io.edgetunnel.protocol.RejectReason;
import java.util.Map;
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

    /**
     * Credentials for a connection whose handshake carried {@code nonce} ({@code ""} if the ingress
     * sent none); an identity proof signs it. By default the nonce is not used.
     */
    default Mono<Credentials> next(String nonce) {
        return next();
    }

    /** The ingress rejected a hello built from these credentials (e.g. to re-read a rotated token). */
    default void rejected(RejectReason reason) {}

    /**
     * The secret parts of a hello, never logged, plus extra hello attributes (e.g. the identity
     * self-check result); the agent adds {@code agent.version} itself.
     */
    record Credentials(String token, String identityProof, Map<String, String> attributes) {
        public Credentials {
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(identityProof, "identityProof");
            attributes = Map.copyOf(attributes);
        }

        public Credentials(String token, String identityProof) {
            this(token, identityProof, Map.of());
        }

        @Override
        public String toString() {
            return "Credentials[token=" + (token.isEmpty() ? "none" : "****") + ", identityProof="
                    + (identityProof.isEmpty() ? "none" : "****") + ", attributes=" + attributes + "]";
        }
    }

    static TunnelCredentials token(String token) {
        Credentials fixed = new Credentials(token, "");
        return () -> Mono.just(fixed);
    }
}
