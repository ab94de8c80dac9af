package io.edgetunnel.agent.secrets;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where the agent's tunnel token comes from (the {@code agent.token*} keys). A file or a secret wins
 * over {@code agent.token} (deployments may inject {@code TUNNEL_TOKEN} as well); a file and a
 * secret together are an error. {@code agent.token} itself stays bound by the tunnel configuration too.
 *
 * @param token the token itself (env {@code TUNNEL_TOKEN} through agent.properties)
 * @param tokenFile a file holding the token (trailing newline ignored); re-read after a rejection
 * @param tokenSecretId Secrets Manager secret name or ARN (env {@code AGENT_TOKEN_SECRET_ID});
 *     its {@code AWSCURRENT} version is read at start and again after a rejection
 * @param tokenSecretJsonKey when the secret is a JSON object, the key holding the token
 * @param tokenRefreshMinInterval at most one re-read per interval, however often the ingress rejects
 */
@ConfigurationProperties("agent")
public record AgentTokenProperties(
        @DefaultValue("") String token,
        Path tokenFile,
        @DefaultValue("") String tokenSecretId,
        @DefaultValue("") String tokenSecretJsonKey,
        @DefaultValue("30s") Duration tokenRefreshMinInterval) {

    public AgentTokenProperties {
        token = token == null ? "" : token;
        tokenSecretId = tokenSecretId == null ? "" : tokenSecretId.trim();
        tokenSecretJsonKey = tokenSecretJsonKey == null ? "" : tokenSecretJsonKey.trim();
        tokenRefreshMinInterval = tokenRefreshMinInterval == null ? Duration.ofSeconds(30) : tokenRefreshMinInterval;
        if (tokenFile != null && !tokenSecretId.isEmpty()) {
            throw new IllegalArgumentException("agent.token-file, agent.token-secret-id: both set "
                    + "(expected: at most one of a file and a secret)");
        }
    }

    @Override
    public String toString() {
        return "AgentTokenProperties[token=" + (token.isEmpty() ? "none" : "****") + ", tokenFile=" + tokenFile
                + ", tokenSecretId=" + tokenSecretId + "]";
    }
}
