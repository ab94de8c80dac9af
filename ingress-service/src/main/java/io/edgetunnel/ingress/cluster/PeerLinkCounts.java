package io.edgetunnel.ingress.cluster;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The peer links open at each end, as {@code tunnel.ingress.cluster.links{end}}: registered with or
 * without a cluster (0 without), so dashboards and alerts need no special case.
 */
public final class PeerLinkCounts {

    /** Links this replica dialled to forward to others. */
    final AtomicInteger sender = new AtomicInteger();
    /** Links other replicas dialled to this one. */
    final AtomicInteger holder = new AtomicInteger();

    PeerLinkCounts(MeterRegistry meters) {
        register(meters, "sender", sender);
        register(meters, "holder", holder);
    }

    private static void register(MeterRegistry meters, String end, AtomicInteger count) {
        Gauge.builder("tunnel.ingress.cluster.links", count, AtomicInteger::get)
                .tag("end", end)
                .description("Peer links open: this replica to others (end=sender), others to this one (end=holder)")
                .register(meters);
    }
}
