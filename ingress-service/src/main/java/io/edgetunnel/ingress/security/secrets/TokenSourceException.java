package io.edgetunnel.ingress.security.secrets;

/** A token source could not be read. The message names the source and the error, never a token. */
public final class TokenSourceException extends RuntimeException {

    public TokenSourceException(String message) {
        super(message, null, false, false);
    }
}
