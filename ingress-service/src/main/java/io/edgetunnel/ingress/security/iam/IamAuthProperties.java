package io.edgetunnel.ingress.security.iam;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * IAM proof verification ({@code ingress.iam.*}), used when {@code ingress.auth.mode} is {@code iam}
 * or {@code token-and-iam}. Environment: {@code INGRESS_IAM_SERVER_ID}, {@code
 * INGRESS_IAM_ALLOWED_ROLE_ARNS}, …
 *
 * @param serverId the value agents must sign in {@code X-Edge-Tunnel-Server-ID}; binds a proof to
 *     this ingress so one captured elsewhere cannot be replayed here (e.g. the tunnel host name)
 * @param stsUrl where proofs are sent, and the only URL a proof may name; empty means {@code
 *     https://sts.REGION.amazonaws.com/} for {@code ingress.aws.region}
 * @param maxSkew how far a proof's {@code X-Amz-Date} may be from this clock
 * @param timeout for the call to STS
 * @param allowedAccounts when non-empty, only callers in these accounts are accepted
 * @param allowedRoleArns when non-empty, only these roles are accepted (before host policy); with
 *     both lists empty every caller is refused
 * @param requireNonce proofs must sign the nonce of the connection they arrive on ({@code
 *     X-Edge-Tunnel-Nonce}), so a captured proof cannot be replayed; off only for agents older than
 *     the nonce
 */
@ConfigurationProperties("ingress.iam")
public record IamAuthProperties(
        @DefaultValue("") String serverId,
        URI stsUrl,
        @DefaultValue("5m") Duration maxSkew,
        @DefaultValue("5s") Duration timeout,
        @DefaultValue List<String> allowedAccounts,
        @DefaultValue List<String> allowedRoleArns,
        @DefaultValue("true") boolean requireNonce) {

    public IamAuthProperties {
        serverId = serverId == null ? "" : serverId.trim();
        maxSkew = maxSkew == null ? Duration.ofMinutes(5) : maxSkew;
        timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
        allowedAccounts = allowedAccounts == null ? List.of() : allowedAccounts.stream().map(String::trim).toList();
        allowedRoleArns = allowedRoleArns == null ? List.of() : allowedRoleArns.stream().map(String::trim).toList();
        if (maxSkew.isNegative() || maxSkew.compareTo(Duration.ofMinutes(15)) > 0) {
            throw new IllegalArgumentException("ingress.iam.max-skew: " + maxSkew + " (expected: 0..15m)");
        }
    }
}
