package io.edgetunnel.ingress.security;

/**
 * Where a hello came from, for per-source limits, and the connection it arrived on.
 *
 * @param remoteAddress the TCP peer, {@code ip:port} (an ALB node when behind one)
 * @param forwardedFor the WebSocket handshake's {@code X-Forwarded-For}, or null; only trustworthy
 *     when the peer is a trusted proxy, which the authenticator decides
 * @param nonce the {@link io.edgetunnel.protocol.ConnectionNonce} this ingress sent in the
 *     connection's handshake, which an identity proof must sign; {@code ""} when none was issued
 */
public record HelloSource(String remoteAddress, String forwardedFor, String nonce) {

    public HelloSource {
        nonce = nonce == null ? "" : nonce;
    }

    public HelloSource(String remoteAddress, String forwardedFor) {
        this(remoteAddress, forwardedFor, "");
    }
}
