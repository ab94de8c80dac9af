package io.edgetunnel.ingress.tunnel;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.TunnelStream;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Where the ingress opens a stream for a public request or connection: an agent's tunnel, or the
 * peer link to another replica that holds the route (which splices the stream onto one of its own
 * agents' tunnels). Both carry the same REQUEST and the same frames, so one handler serves either.
 */
public interface StreamOpener {

    /**
     * Opens a stream whose REQUEST {@code request} builds from its id, handled by what {@code handler}
     * makes for it; null when no stream can be opened now. See {@code TunnelConnection.openStream}.
     */
    TunnelStream openStream(IntFunction<Frame.Request> request, Function<TunnelStream, StreamHandler> handler);

    /** Who serves the stream, for access lines: the agent's id, or {@code replica:<id>} for a peer link. */
    String agentId();
}
