package io.edgetunnel.ingress.security.secrets;

import io.edgetunnel.ingress.config.AuthProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Verifies agent tokens against the accepted set (current and previous secret versions), keeping
 * it fresh: re-read on a schedule, and when an unknown token arrives (at most once per {@code
 * unknownTokenRefreshMinInterval}, so strangers cannot make the ingress hammer Secrets Manager). A
 * failed re-read keeps the last good set and logs a warning; it never locks agents out.
 */
public final class RotatingTokenVerifier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RotatingTokenVerifier.class);

    private final TokenLoader loader;
    private final boolean refreshable;
    private final Duration refreshInterval;
    private final Duration unknownMinInterval;
    private final Clock clock;
    private final AtomicReference<Instant> lastUnknownRefresh = new AtomicReference<>(Instant.MIN);
    private volatile AcceptedTokens tokens = AcceptedTokens.none();
    private volatile Disposable schedule;
    private volatile Scheduler scheduler = Schedulers.boundedElastic();

    public RotatingTokenVerifier(
            TokenLoader loader, boolean refreshable, Duration refreshInterval, Duration unknownMinInterval, Clock clock) {
        this.loader = Objects.requireNonNull(loader, "loader");
        this.refreshable = refreshable;
        this.refreshInterval = Objects.requireNonNull(refreshInterval, "refreshInterval");
        this.unknownMinInterval = Objects.requireNonNull(unknownMinInterval, "unknownMinInterval");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public static RotatingTokenVerifier of(AuthProperties properties, TokenLoader loader, Clock clock) {
        return new RotatingTokenVerifier(loader, properties.refreshable(), properties.tokenRefreshInterval(),
                properties.unknownTokenRefreshMinInterval(), clock);
    }

    /** Re-reads (on an unknown token) on {@code scheduler}, the hello verification pool, not {@code boundedElastic}. */
    public RotatingTokenVerifier verifyingOn(Scheduler scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        return this;
    }

    /** Blocking first read, for startup: an unreadable source stops the ingress from starting. */
    public RotatingTokenVerifier loadNow() {
        tokens = loader.load();
        log.info("Agent tokens loaded from {}: {} accepted", loader.describe(), tokens.size());
        return this;
    }

    /** Starts the periodic re-read (no-op for a plain value). */
    public RotatingTokenVerifier startSchedule() {
        if (refreshable && schedule == null) {
            schedule = Flux.interval(refreshInterval, refreshInterval, Schedulers.boundedElastic())
                    .concatMap(tick -> refresh())
                    .subscribe();
        }
        return this;
    }

    public AcceptedTokens tokens() {
        return tokens;
    }

    /**
     * The matching token's name and stage, or empty. An unknown token may trigger one re-read (off
     * the event loop) before the answer.
     */
    public Mono<Optional<AcceptedTokens.Match>> verify(String presented) {
        Optional<AcceptedTokens.Match> match = tokens.match(presented);
        if (match.isPresent() || !refreshable || presented == null || presented.isEmpty()) {
            return Mono.just(match);
        }
        Instant now = clock.instant();
        Instant last = lastUnknownRefresh.get();
        if (last.plus(unknownMinInterval).isAfter(now) || !lastUnknownRefresh.compareAndSet(last, now)) {
            return Mono.just(match);
        }
        return refresh().map(changed -> tokens.match(presented));
    }

    /**
     * Re-reads the source on {@code boundedElastic}. Never errors.
     *
     * @return whether the accepted set changed
     */
    public Mono<Boolean> refresh() {
        return Mono.fromCallable(() -> {
                    AcceptedTokens fresh = loader.load();
                    boolean changed = !fresh.sameAs(tokens);
                    tokens = fresh;
                    if (changed) {
                        log.info("Agent tokens re-read from {}: {} accepted (rotation picked up)",
                                loader.describe(), fresh.size());
                    }
                    return changed;
                })
                .subscribeOn(scheduler)
                .onErrorResume(e -> {
                    log.warn("Agent tokens could not be re-read from {}, keeping the last {}: {}", loader.describe(),
                            tokens.size(), e instanceof TokenSourceException ? e.getMessage() : e.getClass().getSimpleName());
                    return Mono.just(false);
                });
    }

    @Override
    public void close() {
        Disposable s = schedule;
        if (s != null) {
            s.dispose();
        }
    }
}
