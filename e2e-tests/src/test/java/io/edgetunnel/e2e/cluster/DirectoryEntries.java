package io.edgetunnel.e2e.cluster;

import io.edgetunnel.e2e.support.RedisServer;
import java.time.Duration;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** Directory entries written straight to Redis, as another replica's process would: stale or ghost holders. */
final class DirectoryEntries {

    private DirectoryEntries() {}

    /** Publishes an entry every 200 ms, as a live replica would, until disposed; then leaves as a replica does. */
    static Disposable keepPublishing(RedisServer redis, String id, String address, int port, String route) {
        publish(redis, id, address, port, route);
        Disposable refresh = Flux.interval(Duration.ofMillis(200), Schedulers.boundedElastic())
                .subscribe(tick -> publish(redis, id, address, port, route));
        return () -> {
            refresh.dispose();
            // leave as a replica does, so no later test meets this holder
            String gone = "{\"id\":\"" + id + "\",\"address\":\"\",\"port\":0,\"routes\":[],\"draining\":true,\"gone\":true,\"version\":" + Long.MAX_VALUE + "}";
            redis.command("DEL", "{edgetunnel}:replica:" + id);
            redis.command("SREM", "{edgetunnel}:replicas", id);
            redis.command("PUBLISH", "{edgetunnel}:changes", gone);
        };
    }

    /** What a replica would publish. */
    private static void publish(RedisServer redis, String id, String address, int port, String route) {
        String entry = "{\"id\":\"" + id + "\",\"address\":\"" + address + "\",\"port\":" + port + ",\"routes\":[\"" + route
                + "\"],\"draining\":false,\"gone\":false,\"version\":" + System.currentTimeMillis() * 1000 + "}";
        // the TTL a live replica's entry has (three heartbeats): it lapses soon after publishing stops
        redis.command("SET", "{edgetunnel}:replica:" + id, entry, "PX", "3000");
        redis.command("SADD", "{edgetunnel}:replicas", id);
        redis.command("PUBLISH", "{edgetunnel}:changes", entry);
    }
}
