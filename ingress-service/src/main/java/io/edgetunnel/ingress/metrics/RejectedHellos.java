package io.edgetunnel.ingress.metrics;

import io.edgetunnel.protocol.RejectReason;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

/**
 * The last few refused agent hellos, newest first, for the operator console: what the rejected
 * counter counts, with who and why. Holds only what the log line already says (the message is the
 * one the agent was sent); never a token or a proof.
 */
public final class RejectedHellos {

    /** Enough to see a misconfigured agent retrying, small enough to poll every few seconds. */
    static final int KEPT = 20;

    /**
     * @param agentId as the agent called itself (unverified)
     * @param message the reason in words, as sent to the agent
     */
    public record Rejection(Instant at, String agentId, String remoteAddress, RejectReason reason, String message) {
        public Rejection {
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(reason, "reason");
            agentId = clip(agentId);
            remoteAddress = clip(remoteAddress);
            message = clip(message);
        }

        /** An agent id is whatever the hello said: keep a console row from growing without bound. */
        private static String clip(String value) {
            if (value == null) {
                return "";
            }
            return value.length() <= 200 ? value : value.substring(0, 200) + "…";
        }
    }

    private final Deque<Rejection> recent = new ArrayDeque<>(KEPT);

    /** A few entries under a short lock: taken once per refused hello, never on the request path. */
    public synchronized void add(Rejection rejection) {
        if (recent.size() == KEPT) {
            recent.removeLast();
        }
        recent.addFirst(rejection);
    }

    public synchronized List<Rejection> recent() {
        return List.copyOf(new ArrayList<>(recent));
    }
}
