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

    boolean needsToken() {
        return this != IAM;
    }

    boolean needsIam() {
        return this != TOKEN;
    }
}
