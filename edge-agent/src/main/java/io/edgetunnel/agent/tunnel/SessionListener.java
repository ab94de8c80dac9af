package io.edgetunnel.agent.tunnel;

/** What the owning slot learns about a {@link TunnelSession}. */
interface SessionListener {
    void onAccepted(TunnelSession session);

    /** The ingress sent DRAIN: the session finishes its streams; a replacement should connect. */
    void onDrainRequested(TunnelSession session);

    /** Draining, the ingress confirmed the drain, and no stream is left: the session may close. */
    void onStreamsIdle(TunnelSession session);
}
