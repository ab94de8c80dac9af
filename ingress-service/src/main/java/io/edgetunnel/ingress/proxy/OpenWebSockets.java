package io.edgetunnel.ingress.proxy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * The public WebSockets this replica carries, so that a drain (deregistration or shutdown) can tell
 * every client to go elsewhere with 1001 (going away) at once. Left alone, a socket would stay until
 * the load balancer cuts it when the deregistration delay ends, with no close frame at all.
 */
@Component
public final class OpenWebSockets implements ApplicationListener<AvailabilityChangeEvent<?>> {

    private static final Logger log = LoggerFactory.getLogger(OpenWebSockets.class);

    static final int GOING_AWAY = 1001;

    private final Set<WebsocketOutbound> open = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;

    /** Tracks a socket to the client until {@code ended} completes; closes it at once when draining already. */
    Mono<Void> track(WebsocketOutbound toClient, Mono<Void> ended) {
        open.add(toClient);
        if (draining) {
            goAway(toClient);
        }
        return ended.doFinally(signal -> open.remove(toClient));
    }

    int count() {
        return open.size();
    }

    @Override
    public void onApplicationEvent(AvailabilityChangeEvent<?> event) {
        if (event.getState() == ReadinessState.REFUSING_TRAFFIC) {
            draining = true;
            if (!open.isEmpty()) {
                log.info("Draining: closing {} public WebSocket(s) with {} (going away)", open.size(), GOING_AWAY);
            }
            open.forEach(OpenWebSockets::goAway);
        } else if (event.getState() == ReadinessState.ACCEPTING_TRAFFIC) {
            draining = false;
        }
    }

    private static void goAway(WebsocketOutbound toClient) {
        toClient.sendClose(GOING_AWAY, "ingress going away").onErrorResume(e -> Mono.empty()).subscribe();
    }
}
