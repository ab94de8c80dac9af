package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.Frame;

/**
 * Where a stream's frames go: the tunnel's outbound queue. Implementations are safe to call from any
 * thread and take over the reference of a {@link Frame.Data}'s content.
 */
@FunctionalInterface
public interface FrameSink {
    void send(Frame frame);

    /**
     * False while the tunnel's outbound queue is above its high-water mark, the peer's socket being
     * slower than the streams that feed it: bodies then stop pulling from their sources, so a slow
     * link pushes back on the clients instead of filling the queue up to its slow-consumer limit.
     */
    default boolean writable() {
        return true;
    }

    /** Runs {@code task} once the queue has drained below its low-water mark, or at once if it has. */
    default void whenWritable(Runnable task) {
        task.run();
    }
}
