package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.ResetCode;

/** How a {@link TunnelStream} ended; a handler learns it exactly once. */
public sealed interface StreamEnd {

    /** Both directions ended normally, or the handler finished the stream without telling the peer. */
    record Completed() implements StreamEnd {}

    /** This side reset the stream (a RESET went out); {@code cause} is the handler's own, may be null. */
    record LocalReset(ResetCode code, String message, Throwable cause) implements StreamEnd {}

    /** The peer reset the stream. */
    record PeerReset(ResetCode code, String message) implements StreamEnd {}

    /**
     * The connection closed under the stream, or (opener) it closed or began draining before the
     * stream's first frame went out: then {@code sent} is false and nothing reached the peer.
     */
    record TunnelClosed(String reason, boolean sent) implements StreamEnd {}

    StreamEnd COMPLETED = new Completed();
}
