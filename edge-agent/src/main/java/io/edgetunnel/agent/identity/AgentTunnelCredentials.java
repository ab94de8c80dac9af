package io.edgetunnel.agent.identity;

import io.edgetunnel.agent.secrets.AgentTokenSource;
import io.edgetunnel.agent.tunnel.TunnelCredentials;
import io.edgetunnel.protocol.RejectReason;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The hello's credentials: the token from its source (value, file or Secrets Manager), a freshly
 * signed IAM proof when enabled, and the self-check result as attributes. After a {@code
 * BAD_CREDENTIALS} rejection the next hello first re-reads the token source (rate-limited by the
 * source), since the secret may have been rotated.
 */
public final class AgentTunnelCredentials implements TunnelCredentials {

    private static final Logger log = LoggerFactory.getLogger(AgentTunnelCredentials.class);

    private final AgentTokenSource tokens;
    private final Optional<CallerIdentityProofSigner> signer;
    private final Map<String, String> attributes;
    private final AtomicBoolean rereadToken = new AtomicBoolean();

    public AgentTunnelCredentials(
            AgentTokenSource tokens, Optional<CallerIdentityProofSigner> signer, IdentityStatus identity) {
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.signer = Objects.requireNonNull(signer, "signer");
        this.attributes = Objects.requireNonNull(identity, "identity").helloAttributes();
    }

    @Override
    public Mono<Credentials> next() {
        return next("");
    }

    /** The proof signs {@code nonce}, binding it to the connection the ingress issued it on. */
    @Override
    public Mono<Credentials> next(String nonce) {
        Mono<Boolean> reread = rereadToken.compareAndSet(true, false) ? tokens.refresh() : Mono.just(false);
        Mono<String> proof = signer.map(s -> s.sign(nonce).onErrorMap(e -> new IllegalStateException(
                        e instanceof IllegalArgumentException bad
                                // what the ingress sent in the handshake, not our credentials
                                ? "identity proof not signed: " + bad.getMessage()
                                : "identity proof could not be signed: " + e.getClass().getSimpleName()
                                        + " (expected: task role credentials from the ECS agent)", null)))
                .orElseGet(() -> Mono.just(""));
        return reread.then(proof).map(p -> new Credentials(tokens.current(), p, attributes));
    }

    @Override
    public void rejected(RejectReason reason) {
        if (reason == RejectReason.BAD_CREDENTIALS && tokens.refreshable()) {
            log.info("Ingress rejected the token; re-reading it from {} before the next attempt", tokens.source());
            rereadToken.set(true);
        }
    }
}
