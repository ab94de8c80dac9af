package io.edgetunnel.ingress.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.RedisStringCommands;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.types.Expiration;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The directory as it is kept in Redis: one key per replica, {@code {prefix}:replica:<id>}, holding
 * its entry with a TTL; a set {@code {prefix}:replicas} of ids for full reads; and a channel {@code
 * {prefix}:changes} carrying every entry written. The hash tag keeps every key in one slot, for
 * cluster-mode endpoints such as ElastiCache Serverless (multi-key commands need one slot).
 *
 * <p>Every call subscribes on the directory's own scheduler: taking Spring Data Redis's shared
 * connection may block while it (re)connects, which must never happen on an event loop.
 */
final class DirectoryStore {

    private static final Logger log = LoggerFactory.getLogger(DirectoryStore.class);

    private final ReactiveRedisConnectionFactory connections;
    private final ReactiveStringRedisTemplate template;
    private final Scheduler scheduler;
    private final Duration timeout;
    private final Duration ttl;
    private final String keyPrefix;
    private final String members;
    private final String channel;
    private volatile Disposable subscription;
    private volatile ReactiveRedisMessageListenerContainer container;

    DirectoryStore(ClusterProperties properties, ReactiveRedisConnectionFactory connections, Scheduler scheduler) {
        this.connections = connections;
        this.template = new ReactiveStringRedisTemplate(connections);
        this.scheduler = scheduler;
        this.timeout = properties.connectTimeout().multipliedBy(2);
        this.ttl = properties.heartbeatInterval().multipliedBy(3);
        String prefix = "{" + properties.keyPrefix() + "}";
        this.keyPrefix = prefix + ":replica:";
        this.members = prefix + ":replicas";
        this.channel = prefix + ":changes";
    }

    /** Stores a replica's entry (or, leaving, deletes it) and publishes it. */
    Mono<Void> write(String id, String entry, boolean leaving) {
        ByteBuffer key = bytes(keyPrefix + id);
        return template.execute(connection -> {
            Mono<?> store = leaving
                    ? connection.keyCommands().del(key).then(connection.setCommands().sRem(bytes(members), bytes(id)))
                    : connection.stringCommands()
                            .set(key, bytes(entry), Expiration.from(ttl), RedisStringCommands.SetOption.upsert())
                            .then(connection.setCommands().sAdd(bytes(members), bytes(id)));
            return store.then(connection.pubSubCommands().publish(bytes(channel), bytes(entry)));
        }).subscribeOn(scheduler).timeout(timeout).then();
    }

    /** Every live replica's entry; ids whose key expired are taken out of the set on the way. */
    Mono<List<String>> readAll() {
        ByteBuffer set = bytes(members);
        return template.execute((ReactiveRedisConnection connection) -> connection.setCommands().sMembers(set)
                        .map(DirectoryStore::string)
                        .collectList()
                        .flatMap(ids -> {
                            if (ids.isEmpty()) {
                                return Mono.just(List.<String>of());
                            }
                            List<ByteBuffer> keys = new ArrayList<>(ids.size());
                            ids.forEach(id -> keys.add(bytes(keyPrefix + id)));
                            return connection.stringCommands().mGet(keys).flatMap(values -> {
                                List<String> entries = new ArrayList<>(ids.size());
                                List<ByteBuffer> stale = new ArrayList<>();
                                for (int i = 0; i < ids.size(); i++) {
                                    ByteBuffer value = i < values.size() ? values.get(i) : null;
                                    if (value == null || !value.hasRemaining()) {
                                        stale.add(bytes(ids.get(i)));
                                    } else {
                                        entries.add(string(value));
                                    }
                                }
                                Mono<?> prune = stale.isEmpty() ? Mono.empty() : connection.setCommands().sRem(set, stale);
                                return prune.thenReturn(entries);
                            });
                        }))
                .next()
                .subscribeOn(scheduler)
                .timeout(timeout);
    }

    /** Whether a subscription to the channel is live (as far as anyone has said). */
    boolean subscribed() {
        Disposable current = subscription;
        return current != null && !current.isDisposed();
    }

    /** Subscribes to the channel; {@code onEnd} runs if the subscription ends. Call from the directory's thread. */
    void subscribe(Consumer<String> onMessage, Runnable onEnd) {
        try {
            ReactiveRedisMessageListenerContainer c = container;
            if (c == null) {
                c = new ReactiveRedisMessageListenerContainer(connections);
                container = c;
            }
            subscription = c.receive(ChannelTopic.of(channel))
                    .subscribe(message -> onMessage.accept(message.getMessage()), error -> {
                        log.warn("Cluster: directory subscription lost ({}); re-subscribing", error.toString());
                        onEnd.run();
                    }, onEnd);
        } catch (RuntimeException e) {
            log.debug("cluster directory: subscribe failed: {}", e.toString());
            unsubscribe();
        }
    }

    /** Ends the subscription and drops its connection, so the next subscribe starts afresh. */
    void unsubscribe() {
        Disposable current = subscription;
        if (current != null) {
            current.dispose();
        }
        ReactiveRedisMessageListenerContainer c = container;
        container = null;
        if (c != null) {
            c.destroy();
        }
    }

    /** Keeps the connection, stops delivering: while Redis is away nothing would come anyway. */
    void pause() {
        Disposable current = subscription;
        if (current != null) {
            current.dispose();
        }
    }

    private static ByteBuffer bytes(String value) {
        return ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8));
    }

    private static String string(ByteBuffer buffer) {
        return StandardCharsets.UTF_8.decode(buffer.duplicate()).toString();
    }
}
