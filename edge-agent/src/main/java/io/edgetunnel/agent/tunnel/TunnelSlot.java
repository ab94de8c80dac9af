package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * One of the agent's tunnels and its reconnect loop. Usually holds one session; while a drained
 * session finishes its streams, its successor is already connected, so both are live for a while.
 *
 * <p>Moving to another ingress replica (protocol 6.1) never loses a request: the replacement is
 * dialled while the current session keeps serving, and whichever of the two is not kept is drained
 * like any other tunnel (DRAIN, the barrier PING, close once its streams finished), because the
 * ingress may route requests to either as soon as it accepted it. Closing the duplicate right after
 * its Accept instead would race requests the ingress already sent down it.
 *
 * <p>The session fields change on event loops and timers; swaps happen under this object's lock,
 * which is only ever held for a few field writes and non-blocking sends.
 */
final class TunnelSlot implements SessionListener {

    private static final Logger log = LoggerFactory.getLogger(TunnelSlot.class);

    private final TunnelClient client;
    private final AgentProperties properties;
    private final int index;
    private final String name;
    final Set<TunnelSession> live = ConcurrentHashMap.newKeySet();
    private int attempt;
    private volatile TunnelSession session;
    /** Dialled to reach another replica; {@link #session} serves until this one takes over. */
    private volatile TunnelSession replacement;
    private volatile Disposable retry;
    private volatile Disposable spreadTimer;

    TunnelSlot(TunnelClient client, int index) {
        this.client = client;
        this.properties = client.properties;
        this.index = index;
        this.name = "tunnel-" + index;
    }

    void connect() {
        if (!client.stopping) {
            dial(false);
        }
    }

    private TunnelSession dial(boolean asReplacement) {
        TunnelSession current = client.newSession(name, this);
        // assigned before the connection starts: its end is judged against these fields
        if (asReplacement) {
            replacement = current;
        } else {
            session = current;
        }
        live.add(current);
        AtomicBoolean ended = new AtomicBoolean();
        Disposable acceptTimer = Mono.delay(properties.connectTimeout()).subscribe(x -> {
            if (current.state() == TunnelSession.State.CONNECTING && !ended.get()) {
                log.warn("{}: no accept from {} within {}", name, properties.ingressUri(), properties.connectTimeout());
                current.close(CloseCode.HELLO_TIMEOUT, "no accept within " + properties.connectTimeout());
                current.dispose();
                ended(current, ended, null);
            }
        });
        current.attach(
                client.connection(index, current)
                        .doFinally(signal -> acceptTimer.dispose())
                        .subscribe(null, error -> ended(current, ended, error), () -> ended(current, ended, null)),
                acceptTimer);
        return current;
    }

    private void ended(TunnelSession ending, AtomicBoolean ended, Throwable error) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        live.remove(ending);
        ending.abort();
        synchronized (this) {
            if (ending == replacement) {
                // an accepted replacement was settled in onAccepted: this one never got there
                replacement = null;
                if (!client.stopping) {
                    log.info("{}: the replacement tunnel failed before its accept", name);
                    onSpreadDecision(client.spread.replacementFailed(index));
                }
                return;
            }
            if (client.stopping || ending != session) {
                // stopping, or a drained session whose successor is already running
                return;
            }
            client.spread.cleared(index);
            disposeSpreadTimer();
            if (takeOverReplacement("the tunnel to " + properties.ingressUri() + " ended")) {
                return;
            }
        }
        if (ending.wasAccepted() && ending.uptime().compareTo(properties.reconnect().stableAfter()) >= 0) {
            attempt = 0;
        }
        Frame.Reject reject = ending.reject();
        if (reject != null) {
            client.credentials.rejected(reject.reason());
        }
        Duration delay = reject != null && isPermanent(reject.reason())
                ? client.backoff.delay(Integer.MAX_VALUE)
                : client.backoff.delay(attempt++);
        String why = error == null
                ? (reject != null ? "rejected: " + reject.reason() : "closed")
                : error.getClass().getSimpleName() + (error.getMessage() == null ? "" : ": " + error.getMessage());
        if (ending.wasAccepted()) {
            log.info("{}: tunnel to {} ended ({}); reconnecting in {} ms", name, properties.ingressUri(), why, delay.toMillis());
        } else {
            log.warn("{}: cannot register with {} ({}); retrying in {} ms", name, properties.ingressUri(), why, delay.toMillis());
        }
        retry = Mono.delay(delay).subscribe(x -> {
            client.metrics.reconnect();
            connect();
        });
    }

    /** A replacement still connecting becomes the successor of a session that is going away. */
    private boolean takeOverReplacement(String why) {
        TunnelSession pending = replacement;
        if (pending == null) {
            return false;
        }
        replacement = null;
        session = pending;
        log.info("{}: {}; the replacement already on its way takes over", name, why);
        return true;
    }

    @Override
    public void onAccepted(TunnelSession accepted) {
        ReplicaSpread.Decision decision;
        synchronized (this) {
            if (accepted == replacement) {
                onReplacementAccepted(accepted);
                return;
            }
            if (accepted != session) {
                return;
            }
            decision = client.spread.accepted(index, accepted.replicaId(), accepted.replicaCount());
            if (decision == ReplicaSpread.Decision.MOVE) {
                log.info("{}: ingress replica {} (of {}) already holds another tunnel of this agent", name,
                        accepted.replicaId(), accepted.replicaCount());
            }
            onSpreadDecision(decision);
        }
    }

    private void onReplacementAccepted(TunnelSession accepted) {
        replacement = null;
        ReplicaSpread.Decision decision =
                client.spread.replacementAccepted(index, accepted.replicaId(), accepted.replicaCount());
        if (decision == ReplicaSpread.Decision.PROMOTE) {
            TunnelSession old = session;
            session = accepted;
            log.info("{}: moved from ingress replica {} to {}; draining the old tunnel", name,
                    old == null ? "?" : old.replicaId(), accepted.replicaId());
            if (old != null) {
                old.drain("moved to another ingress replica");
            }
            return;
        }
        log.info("{}: the replacement reached replica {} too; draining it", name, accepted.replicaId());
        accepted.drain("ingress replica already used by this agent");
        onSpreadDecision(decision);
    }

    private void onSpreadDecision(ReplicaSpread.Decision decision) {
        if (decision == ReplicaSpread.Decision.MOVE && !client.stopping) {
            int redial = client.spread.redials(index);
            Duration delay = client.backoff.delay(redial - 1);
            log.info("{}: dialling a replacement in {} ms to reach another replica (re-dial {} of {})", name,
                    delay.toMillis(), redial, properties.spread().maxRedials());
            spreadTimer = Mono.delay(delay).subscribe(x -> dialReplacement());
        } else if (decision == ReplicaSpread.Decision.GIVE_UP) {
            log.warn("{}: still sharing ingress replica {} with another tunnel after {} re-dials; keeping it", name,
                    client.spread.replicaOf(index), properties.spread().maxRedials());
        }
    }

    private synchronized void dialReplacement() {
        TunnelSession current = session;
        if (client.stopping || replacement != null || current == null || !current.isRegistered()) {
            return;
        }
        client.metrics.spreadRedial();
        dial(true);
    }

    @Override
    public void onDrainRequested(TunnelSession draining) {
        synchronized (this) {
            if (draining != session || client.stopping) {
                return;
            }
            client.spread.cleared(index);
            disposeSpreadTimer();
            if (takeOverReplacement("the ingress is draining this tunnel")) {
                return;
            }
        }
        log.info("{}: the ingress is draining this tunnel; opening a replacement", name);
        client.metrics.reconnect();
        connect();
    }

    @Override
    public void onStreamsIdle(TunnelSession idle) {
        idle.close(CloseCode.GOING_AWAY, "drained");
    }

    /** The replica the registered session reached; empty when none is registered or it was not named. */
    String replica() {
        TunnelSession current = session;
        return current != null && current.isRegistered() ? current.replicaId() : "";
    }

    String name() {
        return name;
    }

    long queuedBytes() {
        long total = 0;
        for (TunnelSession each : live) {
            total += each.queuedBytes();
        }
        return total;
    }

    boolean isRegistered() {
        TunnelSession current = session;
        return current != null && current.isRegistered();
    }

    /** The event loop of the registered tunnel, or null. */
    EventExecutor eventLoop() {
        TunnelSession current = session;
        return current != null && current.isRegistered() ? current.eventLoop() : null;
    }

    boolean isIdle() {
        for (TunnelSession each : live) {
            if (each.state() != TunnelSession.State.CLOSED && each.state() != TunnelSession.State.CONNECTING) {
                return false;
            }
        }
        return true;
    }

    void drain(String reason) {
        live.forEach(each -> each.drain(reason));
    }

    boolean drainSettled() {
        for (TunnelSession each : live) {
            if (!each.drainSettled()) {
                return false;
            }
        }
        return true;
    }

    void close(CloseCode code, String reason) {
        live.forEach(each -> each.close(code, reason));
    }

    void cancelRetry() {
        Disposable pending = retry;
        if (pending != null) {
            pending.dispose();
        }
        disposeSpreadTimer();
        for (TunnelSession each : live) {
            if (each.state() == TunnelSession.State.CONNECTING) {
                each.dispose();
            }
        }
    }

    private void disposeSpreadTimer() {
        Disposable timer = spreadTimer;
        if (timer != null) {
            timer.dispose();
        }
    }

    void dispose() {
        live.forEach(TunnelSession::dispose);
    }

    /** Rejections that retrying soon cannot fix: wait the longest backoff. */
    private static boolean isPermanent(RejectReason reason) {
        return reason == RejectReason.BAD_CREDENTIALS
                || reason == RejectReason.HOST_NOT_ALLOWED
                || reason == RejectReason.IDENTITY_UNVERIFIED
                || reason == RejectReason.UNSUPPORTED_VERSION;
    }
}
