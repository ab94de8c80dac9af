package io.edgetunnel.agent.tunnel;

import java.time.Duration;
import java.util.Objects;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the tunnels with the context and stops them gracefully: drain announced, in-flight streams
 * finish up to {@code agent.drain-timeout}, then the tunnels close with 1001. Runs in the last phase,
 * so it stops before the management server does.
 */
public final class TunnelLifecycle implements SmartLifecycle {

    private final TunnelClient client;
    private final Duration drainTimeout;

    public TunnelLifecycle(TunnelClient client, Duration drainTimeout) {
        this.client = Objects.requireNonNull(client, "client");
        this.drainTimeout = Objects.requireNonNull(drainTimeout, "drainTimeout");
    }

    @Override
    public void start() {
        client.start();
    }

    @Override
    public void stop() {
        client.stop(drainTimeout).block(drainTimeout.plusSeconds(10));
    }

    @Override
    public void stop(Runnable callback) {
        client.stop(drainTimeout).doFinally(signal -> callback.run()).subscribe();
    }

    @Override
    public boolean isRunning() {
        return client.isRunning();
    }

    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }
}
