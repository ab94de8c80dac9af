package io.edgetunnel.agent.secrets;

/** A token source could not produce a token. The message names the source, never a token value. */
public final class TokenSourceException extends RuntimeException {

    public TokenSourceException(String message) {
        super(message, null, false, false);
    }
}
