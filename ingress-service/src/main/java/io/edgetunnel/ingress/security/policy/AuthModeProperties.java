package io.edgetunnel.ingress.security.policy;

import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ingress.auth.mode} (env {@code INGRESS_AUTH_MODE}): {@code token}, {@code iam} or {@code
 * token-and-iam}. Unset: {@code iam} in the {@code prod} profile, {@code token} otherwise.
 */
@ConfigurationProperties("ingress.auth")
public record AuthModeProperties(@DefaultValue("") String mode) {

    public AuthModeProperties {
        mode = mode == null ? "" : mode.trim().toLowerCase(Locale.ROOT);
        if (!mode.isEmpty()) {
            parse(mode);
        }
    }

    AuthMode resolve(boolean prodProfile) {
        return mode.isEmpty() ? (prodProfile ? AuthMode.IAM : AuthMode.TOKEN) : parse(mode);
    }

    private static AuthMode parse(String mode) {
        switch (mode.replace('_', '-')) {
            case "token":
                return AuthMode.TOKEN;
            case "iam":
                return AuthMode.IAM;
            case "token-and-iam":
                return AuthMode.TOKEN_AND_IAM;
            default:
                throw new IllegalArgumentException("ingress.auth.mode: " + mode + " (expected: token, iam or token-and-iam)");
        }
    }
}
