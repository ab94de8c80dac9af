package io.edgetunnel.ingress.cluster;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Several ingress replicas as one cluster ({@code ingress.cluster.*}): a directory in Redis-protocol
 * storage of which replica holds agents for which routes, and forwarding between replicas over an
 * internal, authenticated port. Off unless {@code redis-url} is set.
 *
 * @param redisUrl {@code redis://[user:password@]host:port[/db]}, or {@code rediss://} for TLS
 *     (ElastiCache in-transit encryption); empty turns clustering off
 * @param secret key of the HMAC that authenticates every forwarded request; required with a
 *     redis-url, at least 32 characters, the same on every replica
 * @param port the replica-to-replica listener; 0 picks a free one
 * @param advertiseAddress the address other replicas reach this one at; empty: the task's private
 *     IPv4 from the ECS task metadata endpoint v4, else this host's address
 * @param replicaId this replica's id in the directory; empty: a random one per process
 * @param heartbeatInterval how often a replica re-publishes its entry; an entry not refreshed for
 *     three intervals drops out of every view
 * @param resyncInterval how often every view re-reads the whole directory (bounds what a lost
 *     pub/sub message can cost)
 * @param keyPrefix prefix of every key and channel, so environments can share one Redis
 * @param connectTimeout connecting to another replica, and to Redis
 * @param vacatedGrace how long a host whose last agent left anywhere in the cluster answers 503
 *     instead of 404
 * @param address the address the cluster listener binds to (not the one advertised); unset: every
 *     interface
 * @param transport how a request crosses to another replica: {@code link}, a stream on a multiplexed
 *     peer link (one WebSocket per pair of replicas, the tunnel protocol's framing); {@code http}, one
 *     pooled HTTP/1.1 exchange per request (the earlier hop, kept as a fallback; it carries no TCP
 *     routes). Every replica accepts both
 * @param linkMaxStreams streams open at once on one peer link; a request beyond it is answered like
 *     one no agent can take
 */
@Validated
@ConfigurationProperties("ingress.cluster")
public record ClusterProperties(
        @DefaultValue("") String redisUrl,
        @DefaultValue("") String secret,
        @DefaultValue("8083") @Min(0) @Max(65535) int port,
        @DefaultValue("") String advertiseAddress,
        @DefaultValue("") String replicaId,
        @DefaultValue("2s") @NotNull Duration heartbeatInterval,
        @DefaultValue("30s") @NotNull Duration resyncInterval,
        @DefaultValue("edgetunnel") @NotNull String keyPrefix,
        @DefaultValue("2s") @NotNull Duration connectTimeout,
        @DefaultValue("10m") @NotNull Duration vacatedGrace,
        String address,
        @DefaultValue("link") @NotNull Transport transport,
        @DefaultValue("4096") @Min(1) int linkMaxStreams) {

    /** How requests cross to another replica. */
    public enum Transport {
        /** Streams on one multiplexed peer link per pair of replicas. */
        LINK,
        /** One pooled HTTP/1.1 exchange per request. */
        HTTP
    }

    static final int MIN_SECRET_LENGTH = 32;

    public ClusterProperties {
        address = address == null || address.isBlank() ? null : address.trim();
        transport = transport == null ? Transport.LINK : transport;
        if (redisUrl != null && !redisUrl.isBlank()) {
            if (!redisUrl.startsWith("redis://") && !redisUrl.startsWith("rediss://")) {
                throw new IllegalArgumentException(
                        "ingress.cluster.redis-url: must start with redis:// or rediss:// (expected: redis[s]://[user:password@]host:port)");
            }
            if (secret == null || secret.length() < MIN_SECRET_LENGTH) {
                throw new IllegalArgumentException("ingress.cluster.secret: "
                        + (secret == null || secret.isEmpty() ? "missing" : secret.length() + " characters")
                        + " (expected: at least " + MIN_SECRET_LENGTH + " characters when ingress.cluster.redis-url is set)");
            }
        }
        if (heartbeatInterval != null && (heartbeatInterval.isZero() || heartbeatInterval.isNegative())) {
            throw new IllegalArgumentException("ingress.cluster.heartbeat-interval: " + heartbeatInterval + " (expected: > 0)");
        }
        if (resyncInterval != null && (resyncInterval.isZero() || resyncInterval.isNegative())) {
            throw new IllegalArgumentException("ingress.cluster.resync-interval: " + resyncInterval + " (expected: > 0)");
        }
        if (connectTimeout != null && (connectTimeout.isZero() || connectTimeout.isNegative())) {
            throw new IllegalArgumentException("ingress.cluster.connect-timeout: " + connectTimeout + " (expected: > 0)");
        }
    }

    public boolean enabled() {
        return redisUrl != null && !redisUrl.isBlank();
    }

    /** Never the secret itself: properties end up in toString()s and actuator listings. */
    @Override
    public String toString() {
        return "ClusterProperties[enabled=" + enabled() + ", port=" + port + ", replicaId=" + replicaId + ", transport="
                + transport + "]";
    }
}
