package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.config.TunnelProperties;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.websocket.FrameCumulation;
import io.edgetunnel.protocol.websocket.TunnelFrameEncoder;
import io.edgetunnel.runtime.EventLoopSchedulers;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * The sending end of peer links: one link per other replica and event loop (a lane), dialled on
 * first use (a request for a route only that replica holds) and again after it was lost or drained;
 * concurrent first requests share one dial. A request takes the lane of the event loop it runs on, so
 * the public connection and its link share a thread, and forwarded traffic is not all carried by one
 * loop of each replica. A dial that cannot connect fails with {@link Unreachable} (the request may go to another
 * holder); one the other replica refuses (another secret, a clock far off) with {@link Refused}.
 */
public final class PeerLinks implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(PeerLinks.class);

    /** The other replica could not be reached, or dropped the link before it opened: try another. */
    public static final class Unreachable extends RuntimeException {
        Unreachable(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    /** The other replica refused this replica's signature. */
    public static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private static final class Slot {
        volatile PeerLink link;
        Mono<PeerLink> dialling;
        /** The dial in progress; a dial that is no longer this one closes what it opens. */
        Object dial;
        /** After a failed dial, requests fail fast with {@link #failure} until then (nanoTime). */
        long failedUntilNanos;
        RuntimeException failure;
        long backoffNanos;
    }

    /** How long a replica that could not be dialled is left alone, doubling per failure up to the max. */
    static final Duration FIRST_BACKOFF = Duration.ofMillis(250);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    /** How often links to replicas that left the directory are closed. */
    private static final Duration SWEEP_INTERVAL = Duration.ofSeconds(2);

    private final HopSignature signature;
    private final RemoteRoutes routes;
    private final TunnelProperties tunnel;
    private final LinkSettings settings;
    private final LongAdder bufferedBytes;
    private final Duration connectTimeout;
    /** One client per lane, each bound to its event loop; a single unbound one when loops are unknown. */
    private final List<HttpClient> lanes;
    private final Map<EventExecutor, Integer> laneOfLoop;
    private final WebsocketClientSpec spec;
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();
    private final PeerLinkCounts counts;
    private volatile boolean running;
    private volatile Disposable sweeper;

    PeerLinks(HopSignature signature, RemoteRoutes routes, TunnelProperties tunnel, ClusterProperties cluster,
            LongAdder bufferedBytes, LoopResources loops, PeerLinkCounts counts) {
        this.counts = counts;
        this.signature = signature;
        this.routes = routes;
        this.tunnel = tunnel;
        this.settings = new LinkSettings(tunnel.initialStreamWindow(), tunnel.maxFrameBytes(),
                cluster.linkMaxStreams(), tunnel.heartbeatInterval());
        this.bufferedBytes = bufferedBytes;
        this.connectTimeout = cluster.connectTimeout();
        HttpClient http = HttpClient.create(ConnectionProvider.newConnection())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                // window updates and small requests must not wait for Nagle and delayed ACKs
                .option(ChannelOption.TCP_NODELAY, true);
        this.spec = WebsocketClientSpec.builder()
                .maxFramePayloadLength(settings.maxFrameBytes() + PeerLink.WEBSOCKET_SLACK_BYTES)
                .handlePing(false)
                .build();
        List<HttpClient> clients = new ArrayList<>();
        Map<EventExecutor, Integer> laneOf = new IdentityHashMap<>();
        EventLoopGroup group = loops == null ? null : loops.onClient(LoopResources.DEFAULT_NATIVE);
        if (group != null) {
            for (EventExecutor executor : group) {
                if (executor instanceof EventLoop loop) {
                    laneOf.put(loop, clients.size());
                    clients.add(http.runOn(loop));
                }
            }
        }
        if (clients.isEmpty()) {
            clients.add(loops == null ? http : http.runOn(loops));
        }
        this.lanes = List.copyOf(clients);
        this.laneOfLoop = Collections.unmodifiableMap(laneOf);
    }

    /** The caller's lane: its event loop's, or the first off a loop. */
    private int lane() {
        EventExecutor loop = EventLoopSchedulers.currentLoop();
        Integer lane = loop == null ? null : laneOfLoop.get(loop);
        return lane == null ? 0 : lane;
    }

    /** The other replicas holding the route for {@code host} and {@code path}; null when none does. */
    public RouteEntry<Tunnel> holders(String host, String path) {
        return routes.match(host, path);
    }

    /** The open link to {@code peer}, or null when there is none yet (then {@link #link}). */
    public PeerLink ready(RemoteReplica peer) {
        Slot slot = slots.get(key(peer, lane()));
        PeerLink link = slot == null ? null : slot.link;
        return link != null && link.usable() ? link : null;
    }

    /** The link to {@code peer}: the open one, or a new dial. */
    public Mono<PeerLink> link(RemoteReplica peer) {
        int lane = lane();
        String key = key(peer, lane);
        Slot existing = slots.get(key);
        PeerLink open = existing == null ? null : existing.link;
        if (open != null && open.usable()) {
            return Mono.just(open);
        }
        while (true) {
            Slot slot = slots.computeIfAbsent(key, k -> new Slot());
            synchronized (slot) {
                if (slots.get(key) != slot) {
                    continue; // its link closed and it was dropped meanwhile: a dial must not go to a lost slot
                }
                PeerLink current = slot.link;
                if (current != null && current.usable()) {
                    return Mono.just(current);
                }
                if (slot.dialling == null) {
                    if (slot.failure != null && System.nanoTime() - slot.failedUntilNanos < 0) {
                        // a replica that just failed a dial is not dialled again per request
                        return Mono.error(slot.failure);
                    }
                    Object dial = new Object();
                    slot.dial = dial;
                    slot.dialling = dial(peer, key, lane, slot, dial).cache();
                }
                return slot.dialling;
            }
        }
    }

    private Mono<PeerLink> dial(RemoteReplica peer, String key, int lane, Slot slot, Object dial) {
        if (!running) {
            return Mono.error(new Unreachable("replica stopping", null));
        }
        String target = settings.target();
        String hop = signature.sign("GET", target, LinkSettings.signedHost(peer.id()));
        Sinks.One<PeerLink> ready = Sinks.one();
        lanes.get(lane).headers(h -> h.set(HopSignature.HEADER, hop))
                .websocket(spec)
                .uri(peer.baseUri() + target)
                .handle((in, out) -> {
                    PeerLink[] link = new PeerLink[1];
                    in.withConnection(c -> {
                        TunnelFrameEncoder.install(c.channel(), true);
                        FrameCumulation.install(c.channel());
                        link[0] = new PeerLink(peer.id(), settings, tunnel, bufferedBytes, c, null);
                    });
                    synchronized (slot) {
                        if (!running || slot.dial != dial || slots.get(key) != slot) {
                            // a dial given up (timed out, replica left, stopping): its late link serves nobody
                            link[0].close(CloseCode.GOING_AWAY, "superseded");
                            return link[0].run(in, out);
                        }
                        slot.link = link[0];
                        slot.dialling = null;
                        slot.dial = null;
                        slot.failure = null;
                        slot.backoffNanos = 0;
                    }
                    counts.sender.incrementAndGet();
                    ready.tryEmitValue(link[0]);
                    log.info("Peer link to replica {} ({}) open", peer.id(), peer.remoteAddress());
                    return link[0].run(in, out).doFinally(signal -> {
                        counts.sender.decrementAndGet();
                        synchronized (slot) {
                            if (slot.link == link[0]) {
                                slot.link = null;
                            }
                            if (slot.link == null && slot.dialling == null) {
                                // replica ids change with every deploy: keep no slot for a replica long gone
                                slots.remove(key, slot);
                            }
                        }
                        log.info("Peer link to replica {} closed", peer.id());
                    });
                })
                .subscribe(null, error -> ready.tryEmitError(failure(peer, error)),
                        () -> ready.tryEmitError(new Unreachable("replica " + peer.id() + " closed the link at once", null)));
        // the connect timeout bounds the TCP connect; this bounds the upgrade on top of it
        return ready.asMono()
                .timeout(connectTimeout.multipliedBy(2), Mono.error(() -> new Unreachable(
                        "no peer link to replica " + peer.id() + " within " + connectTimeout.multipliedBy(2), null)))
                .doOnError(error -> failed(peer, slot, dial, error));
    }

    /** A dial failed: the next one waits out a backoff that doubles per failure, requests fail fast meanwhile. */
    private void failed(RemoteReplica peer, Slot slot, Object dial, Throwable error) {
        synchronized (slot) {
            if (slot.dial != dial) {
                return;
            }
            slot.dial = null;
            slot.dialling = null;
            long first = FIRST_BACKOFF.toNanos();
            long backoff = slot.backoffNanos == 0 ? first : Math.min(slot.backoffNanos * 2, MAX_BACKOFF.toNanos());
            slot.backoffNanos = backoff;
            // jitter: replicas that lost the same peer do not all come back to it at once
            long jittered = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
            slot.failedUntilNanos = System.nanoTime() + jittered;
            slot.failure = error instanceof RuntimeException runtime ? runtime
                    : new Unreachable(String.valueOf(error), error);
            log.warn("Peer link to replica {} failed: {}{}; next dial in {} ms", peer.id(), error.getMessage(),
                    error instanceof Refused ? " (is ingress.cluster.secret the same on both?)" : "",
                    jittered / 1_000_000);
        }
    }

    /** Closes the links to replicas that left the directory (died, or replaced): their streams fail now, not after missed heartbeats. */
    void sweep() {
        Set<String> live = new HashSet<>();
        for (RemoteReplica replica : routes.replicas()) {
            live.add(key(replica));
        }
        for (Map.Entry<String, Slot> entry : slots.entrySet()) {
            if (live.contains(replicaOf(entry.getKey()))) {
                continue;
            }
            Slot slot = entry.getValue();
            PeerLink link;
            synchronized (slot) {
                if (!slots.remove(entry.getKey(), slot)) {
                    continue;
                }
                link = slot.link;
                slot.dial = null;
            }
            if (link != null) {
                log.info("Peer link to {}: the replica left the directory; closing it", entry.getKey());
                link.close(CloseCode.GOING_AWAY, "replica left the cluster");
            }
        }
    }

    private static RuntimeException failure(RemoteReplica peer, Throwable error) {
        if (error instanceof WebSocketClientHandshakeException handshake && handshake.response() != null
                && handshake.response().status().code() == 401) {
            return new Refused("replica " + peer.id() + " refused this replica's peer link signature");
        }
        return new Unreachable("replica " + peer.id() + " unreachable: " + error, error);
    }

    private static String key(RemoteReplica peer) {
        return peer.id() + "@" + peer.remoteAddress();
    }

    private static String key(RemoteReplica peer, int lane) {
        return key(peer) + "#" + lane;
    }

    /** The replica part of a slot's key. */
    private static String replicaOf(String slotKey) {
        return slotKey.substring(0, slotKey.lastIndexOf('#'));
    }

    @Override
    public void start() {
        running = true;
        sweeper = Flux.interval(SWEEP_INTERVAL, SWEEP_INTERVAL, Schedulers.parallel()).subscribe(tick -> sweep());
    }

    /** After the public port's graceful shutdown: the requests this replica forwarded have finished. */
    @Override
    public void stop() {
        running = false;
        Disposable sweeping = sweeper;
        if (sweeping != null) {
            sweeping.dispose();
        }
        for (Slot slot : slots.values()) {
            PeerLink link = slot.link;
            if (link != null) {
                link.close(CloseCode.GOING_AWAY, "replica stopping");
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1280;
    }
}
