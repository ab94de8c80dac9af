package io.edgetunnel.ingress.proxy;

import io.edgetunnel.ingress.config.ProxyProperties;
import org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;
import reactor.netty.http.HttpProtocol;

/**
 * Lets the public port speak HTTP/2 cleartext next to HTTP/1.1 when {@code ingress.proxy.h2c} is on
 * (for an ALB target group of protocol version HTTP2 or gRPC), with {@code Upgrade: h2c} refused
 * except for the hosts in {@code ingress.proxy.h2c-upgrade-hosts} ({@link H2cUpgradeGuard}). Not
 * {@code server.http2.enabled}: the management server copies that setting from the main one, and it
 * should stay HTTP/1.1 only. A customizer bean of our own class is applied by this context's
 * post-processor alone, so the management server (a child context) never sees it; the tunnel server
 * is plain Reactor Netty and unaffected too.
 */
@Component
final class PublicServerCustomizer implements WebServerFactoryCustomizer<NettyReactiveWebServerFactory> {

    private final ProxyProperties properties;

    PublicServerCustomizer(ProxyProperties properties) {
        this.properties = properties;
    }

    @Override
    public void customize(NettyReactiveWebServerFactory factory) {
        if (properties.h2c()) {
            H2cUpgradeGuard guard = new H2cUpgradeGuard(properties.h2cUpgrade());
            factory.addServerCustomizers(server -> server.protocol(HttpProtocol.HTTP11, HttpProtocol.H2C)
                    .doOnChannelInit((observer, channel, remote) -> guard.install(channel.pipeline())));
        }
    }
}
