package io.edgetunnel.ingress.tunnel;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Random version-4 UUIDs from {@link ThreadLocalRandom}. {@link UUID#randomUUID()} may block on the
 * entropy pool, which an event loop must never do; these ids are correlation handles, not secrets.
 */
public final class Ids {

    private Ids() {}

    public static String random() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long most = (random.nextLong() & ~0xF000L) | 0x4000L;
        long least = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(most, least).toString();
    }
}
