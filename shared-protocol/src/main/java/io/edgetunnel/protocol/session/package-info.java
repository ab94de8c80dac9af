/**
 * The tunnel session core, one for both ends (docs/architecture.md, "Session core").
 *
 * <p>A {@link io.edgetunnel.protocol.session.TunnelConnection} is one tunnel WebSocket in the
 * {@link io.edgetunnel.protocol.session.Role#OPENER opener} (ingress) or
 * {@link io.edgetunnel.protocol.session.Role#ACCEPTOR acceptor} (agent) role. It owns everything the
 * protocol says about a connection: frame intake and close codes, the stream table, ping/pong and
 * heartbeat, the drain barrier, the close sequence, the outbound queue. A side adds its handshake and
 * stream admission through a {@link io.edgetunnel.protocol.session.ConnectionSide}.
 *
 * <p>Each stream is a {@link io.edgetunnel.protocol.session.TunnelStream} with an explicit state
 * and both body halves. The per-stream seam is {@link io.edgetunnel.protocol.session.StreamHandler}:
 * <ul>
 *   <li>opener: {@code connection.openStream(id -> request, stream -> handler)} builds the REQUEST and
 *       the handler together; the REQUEST is queued on the event loop, then {@code
 *       handler.onStarted()} may start the request body ({@code stream.newBody(...)});
 *   <li>acceptor: {@code side.onRequest(stream, request)} decides: {@code stream.accept(handler)} then
 *       start the work, or {@code stream.reset(REFUSED_STREAM, ...)};
 *   <li>either: read the peer's body from {@code stream.inbound()}, send ours with {@code
 *       sendHeaders} / {@code newBody} / {@code newRecordBody}, end with {@code complete()} or {@code
 *       reset(...)}; {@code handler.onEnd} comes once, however the stream ended.
 * </ul>
 * An HTTP exchange (ingress: public request; agent: local app) and a TCP connection (DATA as bytes,
 * END_STREAM as FIN each way, RESET as reset) are both handlers of this shape.
 */
package io.edgetunnel.protocol.session;
