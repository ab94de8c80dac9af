package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * This replica's side of the cluster directory: it publishes which routes it holds healthy,
 * non-draining agents for, and keeps {@link RemoteRoutes} current from what the others publish.
 * Every heartbeat and every change is written with a TTL of three heartbeats (a replica that dies
 * silently drops out) and published, so views follow within a message's latency; a full read every
 * {@code resync-interval} repairs whatever pub/sub lost ({@link DirectoryStore} has the layout).
 *
 * <p>Never on the request path. When Redis cannot be reached the replica keeps serving its own agents
 * and keeps its last view (a stale holder costs one retry), reports itself degraded, and re-publishes
 * and resyncs as soon as Redis answers again. A subscription that stops delivering without saying so
 * is noticed too: each replica hears its own heartbeats back, and when they stop coming it
 * re-subscribes and resyncs instead of taking the silent others for dead.
 */
final class ClusterDirectory implements ReplicaInfo, SmartLifecycle, ApplicationListener<AvailabilityChangeEvent<?>> {

    private static final Logger log = LoggerFactory.getLogger(ClusterDirectory.class);

    /** How often routes are compared with what was published; a change goes out within this. */
    static final Duration TICK = Duration.ofMillis(200);

    private final ClusterProperties properties;
    private final AgentRegistry registry;
    private final RemoteRoutes remote;
    private final String replicaId;
    private final String address;
    private final IntSupplier port;
    private final JsonMapper json = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private final Scheduler scheduler = Schedulers.newBoundedElastic(2, 16, "cluster-directory");
    private final DirectoryStore store;

    private volatile boolean running;
    private volatile boolean draining;
    private volatile boolean degraded = true;
    private volatile boolean warned;
    private volatile boolean synced;
    private volatile long startedNanos;
    /** When this replica last heard its own heartbeat back on the channel: proof the subscription works. */
    private volatile long ownEchoNanos;
    private volatile long subscribedNanos;
    private volatile boolean resyncWanted = true;
    private volatile Disposable ticker;
    /** Touched by the one tick in flight only. */
    private List<String> published;
    private long lastPublishNanos;
    private long lastResyncNanos;
    private final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();

    ClusterDirectory(ClusterProperties properties, ReactiveRedisConnectionFactory connections, AgentRegistry registry,
            RemoteRoutes remote, String replicaId, String address, IntSupplier port) {
        this.properties = properties;
        this.registry = registry;
        this.remote = remote;
        this.replicaId = replicaId;
        this.address = address;
        this.port = port;
        this.store = new DirectoryStore(properties, connections, scheduler);
    }

    @Override
    public String replicaId() {
        return replicaId;
    }

    @Override
    public int replicaCount() {
        return remote.replicaCount() + 1;
    }

    /** Redis has not answered this replica's last write (or never did). */
    @Override
    public boolean degraded() {
        return degraded;
    }

    @Override
    public boolean ready() {
        return synced || System.nanoTime() - startedNanos > 3 * properties.heartbeatInterval().toNanos();
    }

    @Override
    public void start() {
        startedNanos = System.nanoTime();
        running = true;
        ticker = Flux.interval(Duration.ZERO, TICK, scheduler)
                .onBackpressureDrop()
                .concatMap(tick -> tick().onErrorResume(e -> {
                    log.debug("cluster directory tick failed: {}", e.toString());
                    return Mono.empty();
                }), 1)
                .subscribe();
        log.info("Cluster: replica {} advertising {} (cluster port once bound), directory {}", replicaId, address,
                redacted(properties.redisUrl()));
    }

    @Override
    public void stop() {
        running = false;
        Disposable current = ticker;
        if (current != null) {
            current.dispose();
        }
        // leave on purpose, so views drop this replica now instead of after the TTL
        try {
            store.write(replicaId, entryJson(ReplicaEntry.goneEntry(replicaId, nextVersion())), true)
                    .block(properties.connectTimeout().multipliedBy(3));
        } catch (RuntimeException e) {
            log.debug("cluster directory: could not announce departure: {}", e.toString());
        }
        store.unsubscribe();
        scheduler.dispose();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops after the tunnels (lower phases stop later): agents are announced until they are gone. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 2048;
    }

    /** Readiness DOWN is where draining starts (deregistration or shutdown): hold nothing from then on. */
    @Override
    public void onApplicationEvent(AvailabilityChangeEvent<?> event) {
        if (event.getState() == ReadinessState.REFUSING_TRAFFIC) {
            draining = true;
        } else if (event.getState() == ReadinessState.ACCEPTING_TRAFFIC) {
            draining = false;
        }
    }

    private Mono<Void> tick() {
        int clusterPort = port.getAsInt();
        if (!running || clusterPort <= 0) {
            // the cluster port binds after this starts: nothing to advertise before it does
            return Mono.empty();
        }
        long now = System.nanoTime();
        List<String> routes = draining ? List.of() : heldRoutes();
        boolean heartbeatDue = now - lastPublishNanos >= properties.heartbeatInterval().toNanos();
        Mono<Void> publish = Mono.empty();
        if (heartbeatDue || !routes.equals(published)) {
            ReplicaEntry entry = new ReplicaEntry(replicaId, address, clusterPort, routes, draining, false, nextVersion());
            publish = store.write(replicaId, entryJson(entry), false).doOnSuccess(v -> {
                published = routes;
                lastPublishNanos = now;
                reached();
            }).onErrorResume(e -> {
                unreachable(e);
                return Mono.empty();
            });
        }
        // back on the directory's thread: Redis answers on Lettuce's event loops, where taking a
        // connection for the subscription (which may block while it connects) must not happen
        return publish.publishOn(scheduler).then(Mono.defer(() -> {
            if (degraded) {
                return Mono.empty();
            }
            if (!store.subscribed()) {
                subscribedNanos = System.nanoTime();
                store.subscribe(this::accept, () -> resyncWanted = true);
            }
            if (resyncWanted || now - lastResyncNanos >= properties.resyncInterval().toNanos()) {
                return resync(now);
            }
            return Mono.empty();
        })).then(Mono.fromRunnable(this::expireSilentReplicas));
    }

    /** Routes this replica holds a healthy, non-draining agent for, sorted so equal sets compare equal. */
    private List<String> heldRoutes() {
        Set<String> routes = new TreeSet<>();
        for (Tunnel tunnel : registry.tunnels()) {
            if (!tunnel.isOpen() || tunnel.isDraining()) {
                continue;
            }
            Set<RouteClaim> unhealthy = tunnel.unhealthyRoutes();
            for (RouteClaim route : tunnel.routes()) {
                if (!unhealthy.contains(route)) {
                    routes.add(route.toString());
                }
            }
        }
        return List.copyOf(routes);
    }

    private Mono<Void> resync(long now) {
        return store.readAll()
                .doOnNext(entries -> {
                    entries.forEach(this::accept);
                    lastResyncNanos = now;
                    resyncWanted = false;
                    synced = true;
                })
                .onErrorResume(e -> {
                    log.debug("cluster directory resync failed: {}", e.toString());
                    return Mono.empty();
                })
                .then();
    }

    /** Only with a working directory: while Redis or the subscription is away nobody's refreshes arrive. */
    private void expireSilentReplicas() {
        if (degraded) {
            return;
        }
        long now = System.nanoTime();
        long window = 3 * properties.heartbeatInterval().toNanos();
        if (now - subscribedNanos >= window && now - ownEchoNanos >= window) {
            // writes succeed but our own heartbeats do not come back: the subscription died silently
            log.warn("Cluster: directory subscription silent for {}; re-subscribing and resyncing",
                    properties.heartbeatInterval().multipliedBy(3));
            store.unsubscribe();
            resyncWanted = true;
            ownEchoNanos = now;
            return;
        }
        List<String> expired = remote.expire(now, window);
        if (!expired.isEmpty()) {
            log.warn("Cluster: replica(s) {} stopped publishing; dropped from the view", expired);
        }
    }

    /** An entry from Redis (a message or a resync); never throws, whatever another process wrote. */
    private void accept(String value) {
        ReplicaEntry entry;
        try {
            entry = json.readValue(value, ReplicaEntry.class);
        } catch (RuntimeException e) {
            log.warn("Cluster: ignoring a directory entry that does not parse ({})", e.getClass().getSimpleName());
            return;
        }
        if (entry.id().equals(replicaId)) {
            ownEchoNanos = System.nanoTime();
            return;
        }
        remote.apply(entry, System.nanoTime());
    }

    /** Grows with every write, and past any earlier process's (microseconds of the wall clock as a floor). */
    private long nextVersion() {
        long floor = System.currentTimeMillis() * 1000;
        return version.updateAndGet(last -> Math.max(last + 1, floor));
    }

    private String entryJson(ReplicaEntry entry) {
        return json.writeValueAsString(entry);
    }

    private void reached() {
        if (degraded) {
            // nobody could refresh while the directory was away: everyone gets a full TTL to re-publish
            remote.touchAll(System.nanoTime());
            degraded = false;
            resyncWanted = true;
            if (warned) {
                log.info("Cluster: directory reachable again; re-published and resyncing");
                warned = false;
            }
        }
    }

    private void unreachable(Throwable error) {
        if (!degraded || !warned) {
            log.warn("Cluster: directory {} unreachable ({}); serving this replica's own agents, keeping the last view",
                    redacted(properties.redisUrl()), error.toString());
            warned = true;
        }
        degraded = true;
        store.pause();
    }

    /** The URL without its credentials, for logs. */
    static String redacted(String url) {
        int at = url.lastIndexOf('@');
        int scheme = url.indexOf("://");
        return at < 0 || scheme < 0 ? url : url.substring(0, scheme + 3) + "***@" + url.substring(at + 1);
    }
}
