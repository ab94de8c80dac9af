package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.Frame;

/**
 * Where a stream's frames go: the tunnel's outbound queue. Implementations are safe to call from any
 * thread and take over the reference of a {@link Frame.Data}'s content.
 */
@FunctionalInterface
public interface FrameSink {
    void send(Frame frame);
}
