package io.edgetunnel.ingress.tunnel;

import io.edgetunnel.protocol.Frame;

/**
 * The ingress end of one stream, told about every frame the agent sends on it. Called on the
 * tunnel's event loop, one frame at a time.
 */
public interface StreamListener {

    void onResponse(Frame.Response response);

    /** Takes over the content's reference. */
    void onData(Frame.Data data);

    void onTrailers(Frame.Trailers trailers);

    void onWindowUpdate(int increment);

    void onReset(Frame.Reset reset);

    /** The tunnel closed under the stream. */
    void onTunnelClosed(String reason);
}
