package io.edgetunnel.protocol;

/** Protocol versions this build speaks. The ingress picks the highest version both sides support. */
public final class ProtocolVersion {

    public static final int MIN = 1;
    public static final int MAX = 2;

    /**
     * From this version on, ACCEPT ends with the replica the tunnel reached and the cluster's replica
     * count. Nothing else differs from version 1.
     */
    public static final int REPLICA_IN_ACCEPT = 2;

    private ProtocolVersion() {}

    /** The version to run with a peer offering {@code [peerMin, peerMax]}, or -1 when there is none. */
    public static int negotiate(int peerMin, int peerMax) {
        int high = Math.min(MAX, peerMax);
        int low = Math.max(MIN, peerMin);
        return high >= low ? high : -1;
    }
}
