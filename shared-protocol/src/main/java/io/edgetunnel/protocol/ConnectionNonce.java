package io.edgetunnel.protocol;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The per-connection nonce that binds an identity proof to one tunnel connection. The ingress sends
 * a fresh one in the WebSocket handshake response ({@value #HEADER}); the agent signs it into its
 * {@code sts:GetCallerIdentity} proof as a header of the same name, so a proof captured in transit
 * or from a log cannot be replayed on another connection, even within the clock window.
 */
public final class ConnectionNonce {

    /** Response header of the tunnel handshake, and the signed header inside the proof. */
    public static final String HEADER = "X-Edge-Tunnel-Nonce";

    /**
     * A DRBG seeded once, here: after that it draws no more from the OS, so nonces can be made on an
     * event loop (the default NativePRNG reads /dev/urandom on every call, a blocking read).
     */
    private static final SecureRandom RANDOM = seeded();
    private static final Pattern SHAPE = Pattern.compile("[A-Za-z0-9_-]{22,64}");

    private ConnectionNonce() {}

    /** 128 random bits, URL-safe base64 without padding (22 characters). */
    public static String next() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static SecureRandom seeded() {
        SecureRandom random;
        try {
            random = SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            random = new SecureRandom();
        }
        random.nextBytes(new byte[16]);
        return random;
    }

    /** Seeds the generator now; call off the event loops, before the first connection. */
    public static void warmUp() {
        next();
    }

    /** Whether {@code value} looks like a nonce this class makes (what an agent may sign). */
    public static boolean wellFormed(String value) {
        return value != null && SHAPE.matcher(value).matches();
    }
}
