package io.edgetunnel.ingress.proxy;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the proxy learned about one public request, for the access line: the agent that served it,
 * body bytes each way and the outcome. Kept as an exchange attribute ({@link #ATTRIBUTE}); never
 * holds headers or bodies.
 */
public final class AccessRecord {

    public static final String ATTRIBUTE = AccessRecord.class.getName();

    final AtomicLong requestBytes = new AtomicLong();
    final AtomicLong responseBytes = new AtomicLong();
    volatile String agentId;
    volatile String outcome;
    /** Served by another replica of the cluster (forwarded), not by a tunnel of this one. */
    volatile boolean forwarded;

    /** Request body bytes forwarded to the agent. */
    public long requestBytes() {
        return requestBytes.get();
    }

    /** Response body bytes written to the client. */
    public long responseBytes() {
        return responseBytes.get();
    }

    /** The agent whose tunnel carried the request, or {@code -} when none did. */
    public String agentId() {
        String id = agentId;
        return id == null ? "-" : id;
    }

    /** Whether another replica of the cluster served it. */
    public boolean forwarded() {
        return forwarded;
    }

    /** {@code ok}, {@code no_route}, {@code timeout}, ... as in the request metrics, or {@code -}. */
    public String outcome() {
        String value = outcome;
        return value == null ? "-" : value;
    }
}
