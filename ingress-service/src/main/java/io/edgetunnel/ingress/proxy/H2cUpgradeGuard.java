package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.config.HostPatterns;
import io.edgetunnel.protocol.HostNames;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Refuses {@code Upgrade: h2c} on the public port except for hosts that opted in ({@code
 * ingress.proxy.h2c-upgrade-hosts}). Behind an ALB whose target group speaks HTTP/1.1, an upgrade
 * would let a client talk HTTP/2 to the ingress past the load balancer's own request handling. The
 * upgrade is refused the way RFC 9110 section 7.8 allows: the token is removed and the request is
 * answered over HTTP/1.1, so clients that offer h2c opportunistically (curl, the JDK client) still work.
 *
 * <p>Sits right before Netty's {@link HttpServerUpgradeHandler}, which Reactor Netty adds when the
 * public port speaks HTTP/1.1 and h2c; prior-knowledge HTTP/2 never passes through it.
 */
@ChannelHandler.Sharable
final class H2cUpgradeGuard extends ChannelInboundHandlerAdapter {

    static final String NAME = "edge.h2cUpgradeGuard";

    private final HostPatterns allowed;

    H2cUpgradeGuard(HostPatterns allowed) {
        this.allowed = allowed;
    }

    /** Adds the guard before the upgrade handler; false when the pipeline has none (no h2c upgrade). */
    boolean install(ChannelPipeline pipeline) {
        ChannelHandlerContext upgrade = pipeline.context(HttpServerUpgradeHandler.class);
        if (upgrade == null || pipeline.get(NAME) != null) {
            return false;
        }
        pipeline.addBefore(upgrade.name(), NAME, this);
        return true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            refuseUnlessAllowed(request.headers());
        }
        ctx.fireChannelRead(msg);
    }

    private void refuseUnlessAllowed(HttpHeaders headers) {
        List<String> upgrades = headers.getAll(HttpHeaderNames.UPGRADE);
        if (upgrades.isEmpty()) {
            return;
        }
        List<String> kept = new ArrayList<>();
        boolean h2c = false;
        for (String value : upgrades) {
            for (String token : value.split(",")) {
                String protocol = token.trim();
                if (protocol.toLowerCase(Locale.ROOT).startsWith("h2c")) {
                    h2c = true;
                } else if (!protocol.isEmpty()) {
                    kept.add(protocol);
                }
            }
        }
        if (!h2c || allowed.matches(HostNames.normalise(headers.get(HttpHeaderNames.HOST)))) {
            return;
        }
        headers.remove(HttpHeaderNames.UPGRADE);
        headers.remove("HTTP2-Settings");
        if (!kept.isEmpty()) {
            headers.set(HttpHeaderNames.UPGRADE, String.join(", ", kept));
        }
    }
}
