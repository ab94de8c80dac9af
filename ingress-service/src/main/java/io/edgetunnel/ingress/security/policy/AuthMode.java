package io.edgetunnel.ingress.security.policy;

/** How agents authenticate ({@code ingress.auth.mode}). */
public enum AuthMode {
    /** A shared token (value, file or Secrets Manager). Identity: {@code token:NAME}. */
    TOKEN,
    /** An IAM proof the ingress verifies with STS itself. Identity: the role ARN. */
    IAM,
    /** Both must hold. Identity: the role ARN. */
    TOKEN_AND_IAM;

    /** As configured and as the admin listing shows it: {@code token}, {@code iam}, {@code token-and-iam}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /**
     * The mode {@code ingress.auth.mode} names (validated by {@code AuthProperties}); unset: {@code iam}
     * in the {@code prod} profile, {@code token} otherwise.
     */
    static AuthMode resolve(String configured, boolean prodProfile) {
        switch (configured.replace('_', '-')) {
            case "":
                return prodProfile ? IAM : TOKEN;
            case "token":
                return TOKEN;
            case "iam":
                return IAM;
            case "token-and-iam":
                return TOKEN_AND_IAM;
            default:
                throw new IllegalArgumentException(
                        "ingress.auth.mode: " + configured + " (expected: token, iam or token-and-iam)");
        }
    }

    boolean needsToken() {
        return this != IAM;
    }

    boolean needsIam() {
        return this != TOKEN;
    }
}
