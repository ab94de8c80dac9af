package io.edgetunnel.agent.tunnel;

import java.util.HashSet;
import java.util.Set;

/**
 * Which ingress replica each of the agent's tunnels reached, and whether a tunnel should move so
 * that they spread over {@code min(tunnel-count, replicaCount)} distinct replicas (protocol 6.1).
 *
 * <p>Decisions for all tunnels are taken under one lock: two tunnels accepted at the same moment
 * on the same replica must not both decide to move.
 */
final class ReplicaSpread {

    /** What a tunnel does after its Accept, or after a replacement's Accept. */
    enum Decision {
        /** Stay: no duplicate, nothing known, or spreading is off. */
        KEEP,
        /** Dial a replacement (again); the current tunnel keeps serving meanwhile. */
        MOVE,
        /** The replacement reached a new replica: it takes over, the old tunnel drains. */
        PROMOTE,
        /** The bound is reached: keep what there is. */
        GIVE_UP
    }

    private final boolean enabled;
    private final int maxRedials;
    private final String[] replicas;
    private final boolean[] moving;
    private final int[] redials;
    private int replicaCount = 1;

    ReplicaSpread(int tunnels, boolean enabled, int maxRedials) {
        this.enabled = enabled && tunnels > 1;
        this.maxRedials = maxRedials;
        this.replicas = new String[tunnels];
        this.moving = new boolean[tunnels];
        this.redials = new int[tunnels];
    }

    /** Slot {@code slot}'s tunnel was accepted by {@code replicaId}: stay, or move (one more re-dial). */
    synchronized Decision accepted(int slot, String replicaId, int count) {
        replicas[slot] = replicaId;
        replicaCount = Math.max(1, count);
        if (!shouldMove(slot)) {
            return keep(slot);
        }
        return nextAttempt(slot);
    }

    /**
     * A replacement for slot {@code slot} was accepted by {@code replicaId}: take it if no other
     * tunnel holds that replica; otherwise try again, give up, or drop it when the move is no longer
     * needed (another tunnel moved meanwhile).
     */
    synchronized Decision replacementAccepted(int slot, String replicaId, int count) {
        replicaCount = Math.max(1, count);
        if (!replicaId.isEmpty() && !replicaId.equals(replicas[slot]) && !heldByOther(slot, replicaId)) {
            replicas[slot] = replicaId;
            moving[slot] = false;
            return Decision.PROMOTE;
        }
        return shouldMove(slot) ? nextAttempt(slot) : keep(slot);
    }

    /** A replacement never got accepted (refused, rejected, timed out). */
    synchronized Decision replacementFailed(int slot) {
        return shouldMove(slot) ? nextAttempt(slot) : keep(slot);
    }

    /** Slot {@code slot} lost its tunnel: a new one starts with a fresh budget of re-dials. */
    synchronized void cleared(int slot) {
        replicas[slot] = null;
        moving[slot] = false;
        redials[slot] = 0;
    }

    /** Re-dials slot {@code slot} made for its current tunnel. */
    synchronized int redials(int slot) {
        return redials[slot];
    }

    /** No tunnel is moving (nor will, until an Accept changes something). */
    synchronized boolean settled() {
        for (boolean each : moving) {
            if (each) {
                return false;
            }
        }
        return true;
    }

    synchronized String replicaOf(int slot) {
        String replica = replicas[slot];
        return replica == null ? "" : replica;
    }

    /** Distinct named replicas the tunnels reached; 0 until one is known. */
    synchronized int distinctReplicas() {
        Set<String> distinct = new HashSet<>();
        for (String replica : replicas) {
            if (replica != null && !replica.isEmpty()) {
                distinct.add(replica);
            }
        }
        return distinct.size();
    }

    private boolean shouldMove(int slot) {
        String replica = replicas[slot];
        if (!enabled || replicaCount <= 1 || replica == null || replica.isEmpty() || !heldByOther(slot, replica)) {
            return false;
        }
        int target = Math.min(replicas.length, replicaCount);
        int distinct = distinctReplicas();
        if (distinct >= target) {
            return false;
        }
        // others already moving may fill the gap: 3 tunnels on one replica of 2 need one move, not two
        int movingOthers = 0;
        for (int i = 0; i < moving.length; i++) {
            if (i != slot && moving[i]) {
                movingOthers++;
            }
        }
        return movingOthers < target - distinct;
    }

    private Decision nextAttempt(int slot) {
        if (redials[slot] >= maxRedials) {
            moving[slot] = false;
            return Decision.GIVE_UP;
        }
        redials[slot]++;
        moving[slot] = true;
        return Decision.MOVE;
    }

    private Decision keep(int slot) {
        moving[slot] = false;
        return Decision.KEEP;
    }

    private boolean heldByOther(int slot, String replica) {
        for (int i = 0; i < replicas.length; i++) {
            if (i != slot && replica.equals(replicas[i])) {
                return true;
            }
        }
        return false;
    }
}
