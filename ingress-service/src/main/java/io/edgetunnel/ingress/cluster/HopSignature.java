package io.edgetunnel.ingress.cluster;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticates a request forwarded from one replica to another: an HMAC-SHA256, under the cluster
 * secret, over the sending replica, the time, a nonce, the method, the request target and the Host.
 * A shared secret rather than mutual TLS because it needs one Secrets Manager secret instead of a
 * private CA and a certificate per task, and it binds each signature to one request, not only to a
 * connection. The header never reaches an agent: the receiving replica removes it, and the public
 * port drops it outright.
 *
 * <p>Header value: {@code v1 <replica-id> <epoch-millis> <nonce> <mac>}, the MAC base64url.
 */
public final class HopSignature {

    /** Carries the signature on the cluster port; dropped from anything arriving on the public port. */
    public static final String HEADER = "X-Edge-Cluster-Hop";

    /** How far the signer's clock may be from ours, either way. */
    static final long MAX_SKEW_MILLIS = 60_000;

    private static final String VERSION = "v1";

    private final SecretKeySpec key;
    private final String replicaId;
    private final LongSupplier clockMillis;
    /** Mac is not thread-safe; one per thread, as the event loops are few and long-lived. */
    private final ThreadLocal<Mac> macs;

    public HopSignature(String secret, String replicaId) {
        this(secret, replicaId, System::currentTimeMillis);
    }

    HopSignature(String secret, String replicaId, LongSupplier clockMillis) {
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.replicaId = replicaId;
        this.clockMillis = clockMillis;
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }

    /** The header value for a request this replica forwards. */
    public String sign(String method, String target, String host) {
        long now = clockMillis.getAsLong();
        byte[] nonceBytes = new byte[12];
        // unique, not secret: the MAC is what cannot be forged (SecureRandom may block an event loop)
        ThreadLocalRandom.current().nextBytes(nonceBytes);
        String nonce = Base64.getUrlEncoder().withoutPadding().encodeToString(nonceBytes);
        return VERSION + " " + replicaId + " " + now + " " + nonce + " "
                + mac(replicaId, Long.toString(now), nonce, method, target, host);
    }

    /** Why a header value does not authenticate this request, or null when it does. */
    public String reject(String headerValue, String method, String target, String host) {
        if (headerValue == null || headerValue.isEmpty()) {
            return "missing " + HEADER;
        }
        String[] parts = headerValue.split(" ", -1);
        if (parts.length != 5 || !VERSION.equals(parts[0])) {
            return "malformed " + HEADER;
        }
        long at;
        try {
            at = Long.parseLong(parts[2]);
        } catch (NumberFormatException e) {
            return "malformed " + HEADER;
        }
        String expected = mac(parts[1], parts[2], parts[3], method, target, host);
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), parts[4].getBytes(StandardCharsets.US_ASCII))) {
            return "bad signature";
        }
        // after the MAC check: the time of an unauthenticated header tells us nothing
        if (Math.abs(clockMillis.getAsLong() - at) > MAX_SKEW_MILLIS) {
            return "signature expired";
        }
        if (replicaId.equals(parts[1])) {
            return "forwarded by this replica to itself";
        }
        return null;
    }

    /** The nonce of a header value; only meaningful once {@link #reject} accepted it. */
    static String nonce(String headerValue) {
        String[] parts = headerValue == null ? new String[0] : headerValue.split(" ", -1);
        return parts.length == 5 ? parts[3] : "";
    }

    /** When a header value was signed (epoch millis); only meaningful once {@link #reject} accepted it. */
    static long signedAt(String headerValue) {
        String[] parts = headerValue == null ? new String[0] : headerValue.split(" ", -1);
        return parts.length == 5 ? Long.parseLong(parts[2]) : 0;
    }

    /** The sending replica a header value names; only meaningful once {@link #reject} accepted it. */
    public String signer(String headerValue) {
        String[] parts = headerValue == null ? new String[0] : headerValue.split(" ", -1);
        return parts.length == 5 ? parts[1] : "";
    }

    private String mac(String sender, String millis, String nonce, String method, String target, String host) {
        String signed = VERSION + "\n" + sender + "\n" + millis + "\n" + nonce + "\n" + method + "\n" + target + "\n"
                + (host == null ? "" : host);
        byte[] mac = macs.get().doFinal(signed.getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(mac);
    }
}
