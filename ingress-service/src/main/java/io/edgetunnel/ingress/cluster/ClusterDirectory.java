package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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
import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStringCommands;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.types.Expiration;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * This replica's side of the cluster directory in Redis: it publishes which routes it holds healthy,
 * non-draining agents for, and keeps {@link RemoteRoutes} current from what the others publish.
 *
 * <p>In Redis: one key per replica, {@code {prefix}:replica:<id>}, holding its entry with a TTL of
 * three heartbeats (a replica that dies silently drops out); a set {@code {prefix}:replicas} of ids
 * for the periodic full resync; and a channel {@code {prefix}:changes} on which every heartbeat and
 * every change is published, so views follow within a message's latency. The hash tag keeps every key
 * in one slot, for cluster-mode endpoints such as ElastiCache Serverless.
 *
 * <p>Never on the request path. When Redis cannot be reached the replica keeps serving its own agents
 * and keeps its last view (a stale holder costs one retry), reports itself degraded, and re-publishes
 * and resyncs as soon as Redis answers again.
 */
final class ClusterDirectory implements ReplicaInfo, SmartLifecycle, ApplicationListener<AvailabilityChangeEvent<?>> {

    private static final Logger log = LoggerFactory.getLogger(ClusterDirectory.class);

    /** How often routes are compared with what was published; a change goes out within this. */
    static final Duration TICK = Duration.ofMillis(200);

    private final ClusterProperties properties;
    private final ReactiveRedisConnectionFactory connections;
    private final ReactiveStringRedisTemplate template;
    private final AgentRegistry registry;
    private final RemoteRoutes remote;
    private final String replicaId;
    private final String address;
    private final IntSupplier port;
    private final JsonMapper json = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private final String key;
    private final String members;
    private final String channel;
    private final Scheduler scheduler = Schedulers.newBoundedElastic(2, 16, "cluster-directory");

    private volatile boolean running;
    private volatile boolean draining;
    private volatile boolean degraded = true;
    private volatile boolean everReached;
    private volatile boolean synced;
    private volatile long startedNanos;
    private volatile Disposable ticker;
    private volatile Disposable subscription;
    private volatile ReactiveRedisMessageListenerContainer container;
    /** Touched by the one tick in flight only. */
    private List<String> published;
    private long lastPublishNanos;
    private long lastResyncNanos;
    private boolean resyncWanted = true;

    ClusterDirectory(ClusterProperties properties, ReactiveRedisConnectionFactory connections, AgentRegistry registry,
            RemoteRoutes remote, String replicaId, String address, IntSupplier port) {
        this.properties = properties;
        this.connections = connections;
        this.template = new ReactiveStringRedisTemplate(connections);
        this.registry = registry;
        this.remote = remote;
        this.replicaId = replicaId;
        this.address = address;
        this.port = port;
        String prefix = "{" + properties.keyPrefix() + "}";
        this.key = prefix + ":replica:" + replicaId;
        this.members = prefix + ":replicas";
        this.channel = prefix + ":changes";
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

    String address() {
        return address;
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
            write(ReplicaEntry.goneEntry(replicaId), true).block(properties.connectTimeout().multipliedBy(2));
        } catch (RuntimeException e) {
            log.debug("cluster directory: could not announce departure: {}", e.toString());
        }
        Disposable sub = subscription;
        if (sub != null) {
            sub.dispose();
        }
        ReactiveRedisMessageListenerContainer c = container;
        if (c != null) {
            c.destroy();
        }
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
            ReplicaEntry entry = new ReplicaEntry(replicaId, address, clusterPort, routes, draining, false);
            publish = write(entry, false).doOnSuccess(v -> {
                published = routes;
                lastPublishNanos = now;
                reached();
            }).onErrorResume(e -> {
                unreachable(e);
                return Mono.empty();
            });
        }
        return publish.then(Mono.defer(() -> {
            if (degraded) {
                return Mono.empty();
            }
            ensureSubscribed();
            if (resyncWanted || now - lastResyncNanos >= properties.resyncInterval().toNanos()) {
                return resync(now);
            }
            return Mono.empty();
        })).then(Mono.fromRunnable(() -> {
            if (!degraded) {
                // only with a working directory: while Redis is away nobody can refresh, so keep the view
                List<String> expired = remote.expire(System.nanoTime(), 3 * properties.heartbeatInterval().toNanos());
                if (!expired.isEmpty()) {
                    log.warn("Cluster: replica(s) {} stopped publishing; dropped from the view", expired);
                }
            }
        }));
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

    private Mono<Void> write(ReplicaEntry entry, boolean leaving) {
        String value = json.writeValueAsString(entry);
        ByteBuffer k = bytes(key);
        Duration ttl = properties.heartbeatInterval().multipliedBy(3);
        return template.execute(connection -> {
            Mono<?> store = leaving
                    ? connection.keyCommands().del(k).then(connection.setCommands().sRem(bytes(members), bytes(replicaId)))
                    : connection.stringCommands()
                            .set(k, bytes(value), Expiration.from(ttl), RedisStringCommands.SetOption.upsert())
                            .then(connection.setCommands().sAdd(bytes(members), bytes(replicaId)));
            return store.then(connection.pubSubCommands().publish(bytes(channel), bytes(value)));
        }).subscribeOn(scheduler).timeout(properties.connectTimeout().multipliedBy(2)).then();
    }

    /** Reads every replica's entry: repairs whatever pub/sub lost. */
    private Mono<Void> resync(long now) {
        ByteBuffer set = bytes(members);
        String prefix = "{" + properties.keyPrefix() + "}:replica:";
        return template.execute((ReactiveRedisConnection connection) -> connection.setCommands().sMembers(set)
                        .map(ClusterDirectory::string)
                        .collectList()
                        .flatMap(ids -> {
                            if (ids.isEmpty()) {
                                return Mono.just(List.<String>of());
                            }
                            List<ByteBuffer> keys = new ArrayList<>(ids.size());
                            ids.forEach(id -> keys.add(bytes(prefix + id)));
                            return connection.stringCommands().mGet(keys).map(values -> {
                                List<String> stale = new ArrayList<>();
                                for (int i = 0; i < ids.size(); i++) {
                                    ByteBuffer value = i < values.size() ? values.get(i) : null;
                                    if (value == null || !value.hasRemaining()) {
                                        stale.add(ids.get(i));
                                    } else {
                                        accept(string(value));
                                    }
                                }
                                return stale;
                            });
                        })
                        .flatMap(stale -> stale.isEmpty() ? Mono.empty()
                                : connection.setCommands().sRem(set, stale.stream().map(ClusterDirectory::bytes).toList())))
                .subscribeOn(scheduler)
                .timeout(properties.connectTimeout().multipliedBy(2))
                .then(Mono.fromRunnable(() -> {
                    lastResyncNanos = now;
                    resyncWanted = false;
                    synced = true;
                }))
                .onErrorResume(e -> {
                    log.debug("cluster directory resync failed: {}", e.toString());
                    return Mono.empty();
                })
                .then();
    }

    private void ensureSubscribed() {
        Disposable current = subscription;
        if (current != null && !current.isDisposed()) {
            return;
        }
        try {
            ReactiveRedisMessageListenerContainer c = container;
            if (c == null) {
                c = new ReactiveRedisMessageListenerContainer(connections);
                container = c;
            }
            subscription = c.receive(ChannelTopic.of(channel))
                    .subscribe(message -> accept(message.getMessage()), error -> {
                        log.warn("Cluster: directory subscription lost ({}); re-subscribing", error.toString());
                        resyncWanted = true;
                    }, () -> resyncWanted = true);
        } catch (RuntimeException e) {
            log.debug("cluster directory: subscribe failed: {}", e.toString());
            ReactiveRedisMessageListenerContainer c = container;
            container = null;
            if (c != null) {
                c.destroy();
            }
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
            return;
        }
        remote.apply(entry, System.nanoTime());
    }

    private void reached() {
        if (degraded) {
            remote.touchAll(System.nanoTime());
            degraded = false;
            resyncWanted = true;
            if (everReached) {
                log.info("Cluster: directory reachable again; re-published and resyncing");
            }
            everReached = true;
        }
    }

    private void unreachable(Throwable error) {
        if (!degraded || !everReached) {
            log.warn("Cluster: directory {} unreachable ({}); serving this replica's own agents, keeping the last view",
                    redacted(properties.redisUrl()), error.toString());
            everReached = true;
        }
        degraded = true;
        Disposable sub = subscription;
        if (sub != null) {
            sub.dispose();
        }
    }

    /** The URL without its credentials, for logs. */
    static String redacted(String url) {
        int at = url.lastIndexOf('@');
        int scheme = url.indexOf("://");
        return at < 0 || scheme < 0 ? url : url.substring(0, scheme + 3) + "***@" + url.substring(at + 1);
    }

    private static ByteBuffer bytes(String value) {
        return ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8));
    }

    private static String string(ByteBuffer buffer) {
        return StandardCharsets.UTF_8.decode(buffer.duplicate()).toString();
    }
}
