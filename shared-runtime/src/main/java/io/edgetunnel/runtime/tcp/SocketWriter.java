package io.edgetunnel.runtime.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * The stream-to-socket half of a {@link SocketBridge}: writes a source's buffers to the socket and,
 * once the source completed, shuts the output down (our FIN). Buffers that arrive while a write is
 * already scheduled join it, and each batch is flushed once: one task, one flush and one send per
 * DATA frame used to be the price of every frame a bulk transfer's client received. Written buffers
 * are released by the socket once written, as before, so the stream's credit returns only then.
 */
final class SocketWriter implements Subscriber<ByteBuf>, Runnable {

    private final Channel channel;
    private final AtomicLong bytesWritten;
    /** Every byte was written and the output shut down. */
    private final Runnable onOutputShutdown;
    /** The source failed: the socket is reset. */
    private final Runnable onFailure;

    private final Queue<ByteBuf> pending = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile boolean completed;
    private volatile boolean failed;
    /** Event loop only. */
    private boolean shutdownStarted;

    SocketWriter(Channel channel, AtomicLong bytesWritten, Runnable onOutputShutdown, Runnable onFailure) {
        this.channel = channel;
        this.bytesWritten = bytesWritten;
        this.onOutputShutdown = onOutputShutdown;
        this.onFailure = onFailure;
    }

    @Override
    public void onSubscribe(Subscription s) {
        // the stream's window bounds what can arrive: no demand accounting needed here
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(ByteBuf buf) {
        pending.offer(buf);
        schedule();
    }

    @Override
    public void onError(Throwable t) {
        failed = true;
        onFailure.run();
        schedule(); // frees what was not written
    }

    @Override
    public void onComplete() {
        completed = true;
        schedule();
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                channel.eventLoop().execute(this);
            } catch (RejectedExecutionException e) {
                releasePending(); // the loop is shutting down, the channel with it
            }
        }
    }

    /** On the event loop: writes what is pending, one flush for all of it, then the FIN once the source ended. */
    @Override
    public void run() {
        scheduled.set(false);
        // the end flags first: whatever the source emitted before its end is in the queue by then
        boolean ended = completed;
        if (failed) {
            releasePending();
            return;
        }
        boolean wrote = false;
        ByteBuf buf;
        while ((buf = pending.poll()) != null) {
            int bytes = buf.readableBytes();
            channel.write(buf).addListener(f -> {
                if (f.isSuccess()) {
                    bytesWritten.addAndGet(bytes);
                }
            });
            wrote = true;
        }
        if (wrote) {
            channel.flush();
        }
        if (ended && !shutdownStarted) {
            shutdownStarted = true;
            shutdownOutput();
        }
    }

    private void shutdownOutput() {
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (!f.isSuccess() || !(channel instanceof DuplexChannel duplex)) {
                return; // a failed write surfaces through exceptionCaught/channelInactive
            }
            duplex.shutdownOutput().addListener(s -> {
                if (s.isSuccess()) {
                    onOutputShutdown.run();
                }
            });
        });
    }

    private void releasePending() {
        ByteBuf buf;
        while ((buf = pending.poll()) != null) {
            buf.release();
        }
    }
}
