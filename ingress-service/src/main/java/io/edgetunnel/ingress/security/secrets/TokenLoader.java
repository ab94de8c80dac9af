package io.edgetunnel.ingress.security.secrets;

/**
 * Reads the accepted tokens from their source. Blocking; called on {@code boundedElastic} (and on
 * the main thread at startup). Throws {@link TokenSourceException} when the source is unusable.
 */
@FunctionalInterface
public interface TokenLoader {

    AcceptedTokens load();

    /** Where the tokens come from, for logs; never a value. */
    default String describe() {
        return "tokens";
    }
}
