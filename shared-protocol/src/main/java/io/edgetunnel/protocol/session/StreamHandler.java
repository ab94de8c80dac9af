package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import java.util.List;

/**
 * What a side attaches to a {@link TunnelStream}: the ingress a public HTTP exchange, the agent a
 * local HTTP forwarder (and, with TCP routes, a socket). This is the whole per-stream seam: the core
 * validates every frame against the stream's state (protocol section 7.2), feeds DATA into the
 * stream's inbound body and credit into its outbound body, and tells the handler only what it must
 * act on.
 *
 * <p>Frame callbacks come on the connection's event loop, one at a time. {@link #onEnd} comes once:
 * on the loop when the peer or the connection ended the stream, on the caller's thread when the
 * handler ended it itself ({@link TunnelStream#reset}, {@link TunnelStream#complete}). The handler
 * releases what it holds for the stream there ({@link TunnelStream#releaseBodies} does the bodies).
 */
public interface StreamHandler {

    /**
     * Opener only: the stream's REQUEST is queued, on the event loop; a request body starts here, so
     * that none of it is taken from its source for a stream that never went out.
     */
    default void onStarted() {}

    /** The consumer of the inbound body cancelled it before it ended. */
    default void onInboundCancelled() {}

    /** Opener only: the peer's RESPONSE, the first frame of its direction. */
    default void onResponse(Frame.Response response) {}

    /** The peer's direction ends with trailer fields; called just before {@link #onRemoteEnd}. */
    default void onTrailers(List<Header> trailers) {}

    /** The peer's direction ended (END_STREAM or TRAILERS); the inbound body is complete. */
    default void onRemoteEnd() {}

    /** The stream ended; called exactly once. */
    void onEnd(StreamEnd end);
}
