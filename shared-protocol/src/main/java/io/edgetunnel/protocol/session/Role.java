package io.edgetunnel.protocol.session;

/**
 * Which end of the tunnel a {@link TunnelConnection} is: the one that opens streams (the ingress,
 * with REQUEST) or the one that accepts them (the agent). Everything else about a connection is the
 * same for both, as Netty's one HTTP/2 connection class serves client and server.
 */
public enum Role {
    /** Opens streams: sends REQUEST, receives RESPONSE. The ingress. */
    OPENER,
    /** Accepts streams: receives REQUEST, sends RESPONSE. The agent. */
    ACCEPTOR;

    /** What the peer is called in log lines and close reasons. */
    String peerName() {
        return this == OPENER ? "agent" : "ingress";
    }
}
