package io.edgetunnel.ingress.security.secrets;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where the ingress's accepted agent tokens come from ({@code ingress.auth.token*}). At most one
 * source; {@code ingress.auth.token} stays bound by the core auth configuration too.
 *
 * @param token a token value (env {@code TUNNEL_TOKEN} through ingress.yaml)
 * @param tokenFile a file holding the token; re-read on refresh
 * @param tokenSecretId Secrets Manager secret name or ARN (env {@code INGRESS_AUTH_TOKEN_SECRET_ID});
 *     both {@code AWSCURRENT} and {@code AWSPREVIOUS} are accepted, so rotation never locks agents out.
 *     A plain secret string is one token; a JSON object maps token names to tokens
 * @param tokenName the name of a single token, used by policy rules as {@code token:NAME}
 * @param tokenRefreshInterval how often a file or secret is re-read
 * @param unknownTokenRefreshMinInterval an unknown token triggers a re-read at most this often
 */
@ConfigurationProperties("ingress.auth")
public record TokenSourceProperties(
        @DefaultValue("") String token,
        Path tokenFile,
        @DefaultValue("") String tokenSecretId,
        @DefaultValue("shared") String tokenName,
        @DefaultValue("5m") Duration tokenRefreshInterval,
        @DefaultValue("30s") Duration unknownTokenRefreshMinInterval) {

    public TokenSourceProperties {
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
        return "TokenSourceProperties[token=" + (token.isEmpty() ? "none" : "****") + ", tokenFile=" + tokenFile
                + ", tokenSecretId=" + tokenSecretId + ", tokenName=" + tokenName + "]";
    }
}
