package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ResetCode;

/** What a side adds to the connection. Called on the event loop unless said otherwise. */
public interface ConnectionSide {
    /** A frame before {@link TunnelConnection#open}: the handshake (Hello at the ingress, Accept or Reject at the agent). */
    void onHandshake(Frame frame);

    /**
     * Acceptor: a REQUEST opened {@code stream}. Call {@link TunnelStream#accept} with a handler
     * (then start the work), or {@link TunnelStream#reset} to refuse it.
     */
    default void onRequest(TunnelStream stream, Frame.Request request) {
        stream.reset(ResetCode.REFUSED_STREAM, "no streams accepted");
    }

    /** A connection-level frame the core does not handle (ROUTE_HEALTH at the ingress). */
    default void onControl(Frame frame) {
        throw new ProtocolException(CloseCode.PROTOCOL_ERROR,
                frame.getClass().getSimpleName() + " on an open tunnel (expected: stream, ping, pong or drain)");
    }

    /** The peer announced drain; {@code wasDraining} if this side had drained first. */
    default void onPeerDrain(String reason, boolean wasDraining) {}

    /** Draining, the barrier settled and no stream left: the connection may close. */
    default void onStreamsIdle() {}

    /** A stream was admitted (+1) or ended (-1); any thread. */
    default void onStreamCount(int delta) {}

    /**
     * The connection begins to close (any close: ours, the heartbeat's, a protocol error's, the
     * queue's); called once, on the closing thread, before the streams end.
     */
    default void onClose(CloseCode code, String reason) {}

    /** About to close for {@code error} (log it); any thread. */
    default void onProtocolError(ProtocolException error) {}

    /** Checks an inbound message's size before it is decoded; throws ProtocolException. */
    default void checkInbound(int bytes) {}
}
