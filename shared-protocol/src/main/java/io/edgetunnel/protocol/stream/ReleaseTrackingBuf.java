package io.edgetunnel.protocol.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;

/**
 * Wraps one buffer and runs a callback when it is finally released. Netty releases a written
 * buffer only once the socket took its bytes, so this tells {@link InboundBody} when data really
 * left the process, not merely when it was handed to a writer's queue.
 */
final class ReleaseTrackingBuf extends CompositeByteBuf {

    private final Runnable onRelease;

    ReleaseTrackingBuf(ByteBuf content, Runnable onRelease) {
        super(content.alloc(), content.isDirect(), 1, content);
        this.onRelease = onRelease;
    }

    @Override
    protected void deallocate() {
        super.deallocate();
        onRelease.run();
    }
}
