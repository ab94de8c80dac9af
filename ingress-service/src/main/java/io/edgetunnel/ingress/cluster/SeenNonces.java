package io.edgetunnel.ingress.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The nonces of the peer-link upgrades a replica accepted while their signatures could still be
 * accepted, so each signature opens one link only: a captured upgrade replayed within the clock
 * window is refused. Links are dialled rarely (one per replica pair and event loop, again after a loss), so the
 * set stays small; a flood of signed upgrades fills it and is then refused, never let through.
 */
final class SeenNonces {

    static final int CAPACITY = 10_000;

    private final Map<String, Long> expiries = new ConcurrentHashMap<>();
    private final LongSupplier clockMillis;
    private final long keepMillis;

    /** @param keepMillis how long a signature stays acceptable after it was made, both clock skews included */
    SeenNonces(long keepMillis, LongSupplier clockMillis) {
        this.keepMillis = keepMillis;
        this.clockMillis = clockMillis;
    }

    /** Whether this signer's nonce, signed at {@code signedAtMillis}, is new; it is remembered if so. */
    boolean firstUse(String signer, String nonce, long signedAtMillis) {
        long now = clockMillis.getAsLong();
        if (expiries.size() >= CAPACITY) {
            expiries.values().removeIf(expiry -> expiry < now);
            if (expiries.size() >= CAPACITY) {
                return false;
            }
        }
        long expiry = Math.max(now, signedAtMillis) + keepMillis;
        return expiries.putIfAbsent(signer + ' ' + nonce, expiry) == null;
    }

    int size() {
        return expiries.size();
    }
}
