package io.edgetunnel.agent.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * One pooled HTTP/1.1 connection to a local app, and the end of its pipeline that hands what the
 * codec decodes to the exchange using it now. Between exchanges nothing is read (auto-read is off),
 * so an idle connection only ever reports that the app closed it.
 */
final class Http1Connection {

    /** The exchange a connection is lent to. */
    interface User {
        void onMessage(Object message);

        void onReadComplete();

        void onClosed(Throwable cause);
    }

    private final Channel channel;
    private User user;
    /** When it was last parked in the pool; 0 while it never was. */
    private long idleSince;

    Http1Connection(Channel channel) {
        this.channel = channel;
    }

    Channel channel() {
        return channel;
    }

    /** Adds the handler, once connected. */
    void install() {
        channel.pipeline().addLast(new Handler());
    }

    /** Lends the connection to {@code user}; true when it waited in the pool before (a kept-alive one). */
    boolean attach(User user) {
        this.user = user;
        return idleSince != 0;
    }

    void detach() {
        user = null;
    }

    long idleSince() {
        return idleSince;
    }

    void idleSince(long nanos) {
        idleSince = nanos;
    }

    private final class Handler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            User current = user;
            if (current == null) {
                // bytes between exchanges: the app is not speaking HTTP/1.1 as we know it
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            current.onMessage(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            User current = user;
            if (current != null) {
                current.onReadComplete();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            User current = user;
            if (current != null) {
                current.onClosed(null);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            User current = user;
            ctx.close();
            if (current != null) {
                current.onClosed(cause);
            }
        }
    }
}
