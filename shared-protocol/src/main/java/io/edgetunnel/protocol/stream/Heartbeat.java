package io.edgetunnel.protocol.stream;

import io.edgetunnel.protocol.Frame;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * Sends a {@link Frame.Ping} every interval and declares the peer dead when nothing at all arrived
 * from it for {@code missedLimit} intervals. Any received frame counts as a sign of life, so a busy
 * tunnel never dies for a late pong. Each PING carries its send time, so the PONG echoing it
 * measures the tunnel's round trip (which window growth needs, spec section 8.1).
 */
public final class Heartbeat {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final long intervalNanos;
    private final int missedLimit;
    private final FrameSink sink;
    private final Runnable onDead;
    private final Scheduler scheduler;

    private final LongConsumer onRoundTrip;

    private volatile long lastReceivedNanos = System.nanoTime();
    private volatile Disposable task;
    /** The payload of the last PING sent: its send time, so the PONG that echoes it gives the round trip. */
    private volatile long lastPingPayload;
    private volatile boolean pingOutstanding;

    public Heartbeat(Duration interval, int missedLimit, FrameSink sink, Runnable onDead, Scheduler scheduler) {
        this(interval, missedLimit, sink, onDead, scheduler, rtt -> { });
    }

    /**
     * @param onRoundTrip told the round-trip time in nanoseconds whenever the PONG to one of our
     *     PINGs arrives
     */
    public Heartbeat(Duration interval, int missedLimit, FrameSink sink, Runnable onDead, Scheduler scheduler,
            LongConsumer onRoundTrip) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
        }
        if (missedLimit < 1) {
            throw new IllegalArgumentException("missedLimit: " + missedLimit + " (expected: >= 1)");
        }
        this.intervalNanos = interval.toNanos();
        this.missedLimit = missedLimit;
        this.sink = sink;
        this.onDead = onDead;
        this.scheduler = scheduler;
        this.onRoundTrip = onRoundTrip;
    }

    public void start() {
        lastReceivedNanos = System.nanoTime();
        task = scheduler.schedulePeriodically(this::tick, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
    }

    /** Call for every frame received from the peer. */
    public void onFrameReceived() {
        lastReceivedNanos = System.nanoTime();
    }

    /** Call for every PONG received: one that echoes our last PING gives the round-trip time. */
    public void onPong(long payload) {
        if (pingOutstanding && payload == lastPingPayload) {
            pingOutstanding = false;
            long roundTrip = System.nanoTime() - payload;
            if (roundTrip > 0) {
                onRoundTrip.accept(roundTrip);
            }
        }
    }

    public void stop() {
        Disposable current = task;
        if (current != null) {
            current.dispose();
        }
    }

    private void tick() {
        // a periodic task that throws is cancelled for good: nothing may escape, or a dead peer would
        // never be noticed and its streams would hang
        try {
            long silentNanos = System.nanoTime() - lastReceivedNanos;
            if (silentNanos > intervalNanos * missedLimit) {
                stop();
                onDead.run();
                return;
            }
            long sentAt = System.nanoTime();
            lastPingPayload = sentAt;
            pingOutstanding = true;
            sink.send(new Frame.Ping(sentAt));
        } catch (RuntimeException | Error e) {
            try {
                log.warn("heartbeat tick failed, will try again next interval: {}", e.toString());
            } catch (RuntimeException | Error logFailure) {
                // even the report may fail (a logger that blocks where blocking is forbidden): the
                // schedule must survive that too
            }
        }
    }
}
