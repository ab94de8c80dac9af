package io.edgetunnel.ingress.security;

/**
 * Where a hello came from, for per-source limits.
 *
 * @param remoteAddress the TCP peer, {@code ip:port} (an ALB node when behind one)
 * @param forwardedFor the WebSocket handshake's {@code X-Forwarded-For}, or null; only trustworthy
 *     when the peer is a trusted proxy, which the authenticator decides
 */
public record HelloSource(String remoteAddress, String forwardedFor) {}
