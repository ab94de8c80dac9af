package io.edgetunnel.ingress.security;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;
import reactor.core.publisher.Mono;

/**
 * Shared-token authentication. Tokens are compared as SHA-256 digests with
 * {@link MessageDigest#isEqual}, so neither content nor length leaks through timing.
 *
 * <p>Not a bean: the running ingress authenticates with {@code policy.PolicyAuthenticator}, which
 * adds token files, Secrets Manager rotation, IAM proofs and host policy.
 */
public final class TokenVerifier implements AgentAuthenticator {

    private final byte[] expectedDigest;

    /** {@code token} as {@code ingress.auth.token} gives it. */
    public TokenVerifier(String token, Environment environment) {
        token = token == null ? "" : token;
        if (token.isBlank() && !environment.acceptsProfiles(Profiles.of("local"))) {
            throw new IllegalStateException("ingress.auth.token: empty (expected: a shared agent token, "
                    + "set TUNNEL_TOKEN or ingress.auth.token; only the 'local' profile may leave it unset)");
        }
        this.expectedDigest = token.isBlank() ? null : digest(token);
    }

    @Override
    public Mono<AuthResult> authenticate(Frame.Hello hello) {
        return Mono.just(verify(hello.token()) ? new AuthResult.Authenticated(hello.agentId())
                : new AuthResult.Rejected(RejectReason.BAD_CREDENTIALS, "token not accepted"));
    }

    public boolean verify(String presented) {
        if (expectedDigest == null || presented == null || presented.isEmpty()) {
            return false;
        }
        return MessageDigest.isEqual(expectedDigest, digest(presented));
    }

    private static byte[] digest(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
