package io.edgetunnel.ingress.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Agent authentication ({@code ingress.auth.*}): how agents prove who they are, and where the accepted
 * agent tokens come from (at most one source besides the value itself).
 *
 * @param mode how agents authenticate: token (the shared token), iam (a signed sts:GetCallerIdentity proof,
 *     checked against ingress.iam.* and ingress.ecs.*) or token-and-iam (both). Empty: iam in the prod
 *     profile, token otherwise.
 * @param token the shared tunnel token ({@code TUNNEL_TOKEN}); required outside the {@code local}
 *     profile
 * @param tokenFile a file holding the token; re-read on refresh
 * @param tokenSecretId Secrets Manager secret name or ARN (env {@code INGRESS_AUTH_TOKEN_SECRET_ID});
 *     both {@code AWSCURRENT} and {@code AWSPREVIOUS} are accepted, so rotation never locks agents out.
 *     A plain secret string is one token; a JSON object maps token names to tokens
 * @param tokenName the name of a single token, used by policy rules as {@code token:NAME}
 * @param tokenRefreshInterval how often a file or secret is re-read
 * @param unknownTokenRefreshMinInterval an unknown token triggers a re-read at most this often
 */
@Validated
@ConfigurationProperties("ingress.auth")
public record AuthProperties(
        @DefaultValue("") String mode,
        @DefaultValue("") String token,
        Path tokenFile,
        @DefaultValue("") String tokenSecretId,
        @DefaultValue("shared") String tokenName,
        @DefaultValue("5m") Duration tokenRefreshInterval,
        @DefaultValue("30s") Duration unknownTokenRefreshMinInterval) {

    private static final Set<String> MODES = Set.of("token", "iam", "token-and-iam");

    public AuthProperties {
        mode = mode == null ? "" : mode.trim().toLowerCase(Locale.ROOT);
        if (!mode.isEmpty() && !MODES.contains(mode.replace('_', '-'))) {
            throw new IllegalArgumentException("ingress.auth.mode: " + mode + " (expected: token, iam or token-and-iam)");
        }
        token = token == null ? "" : token;
        tokenSecretId = tokenSecretId == null ? "" : tokenSecretId.trim();
        tokenName = tokenName == null || tokenName.isBlank() ? "shared" : tokenName.trim();
        tokenRefreshInterval = tokenRefreshInterval == null ? Duration.ofMinutes(5) : tokenRefreshInterval;
        unknownTokenRefreshMinInterval =
                unknownTokenRefreshMinInterval == null ? Duration.ofSeconds(30) : unknownTokenRefreshMinInterval;
        if (tokenFile != null && !tokenSecretId.isEmpty()) {
            throw new IllegalArgumentException("ingress.auth.token-file, ingress.auth.token-secret-id: both set "
                    + "(expected: at most one token source)");
        }
        if (tokenRefreshInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("ingress.auth.token-refresh-interval: " + tokenRefreshInterval
                    + " (expected: >= 1s)");
        }
    }

    /** A file or a secret: something worth re-reading. */
    public boolean refreshable() {
        return tokenFile != null || !tokenSecretId.isEmpty();
    }

    @Override
    public String toString() {
        return "AuthProperties[mode=" + mode + ", token=" + (token.isEmpty() ? "none" : "****") + ", tokenFile="
                + tokenFile + ", tokenSecretId=" + tokenSecretId + ", tokenName=" + tokenName + "]";
    }
}
