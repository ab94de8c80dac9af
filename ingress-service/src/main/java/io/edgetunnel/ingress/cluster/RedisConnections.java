package io.edgetunnel.ingress.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The directory's Redis connection, from {@code ingress.cluster.redis-url}: TLS for {@code rediss://}
 * (ElastiCache in-transit encryption), AUTH with the URL's user and password. While Redis is away,
 * commands fail at once instead of queueing (the directory retries on its own schedule), and Lettuce
 * reconnects in the background.
 */
final class RedisConnections {

    private RedisConnections() {}

    /**
     * Lettuce's threads and reconnect schedule. Reconnects back off to one second at most (Lettuce's
     * default grows to 30 s): a directory that returns is used again within seconds.
     */
    static ClientResources resources() {
        return ClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.fullJitter(Duration.ofMillis(50), Duration.ofSeconds(1), 100, TimeUnit.MILLISECONDS))
                .build();
    }

    static LettuceConnectionFactory factory(ClusterProperties properties, ClientResources resources) {
        RedisURI uri;
        try {
            uri = RedisURI.create(properties.redisUrl());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("ingress.cluster.redis-url: does not parse (" + e.getClass().getSimpleName()
                    + "; expected: redis[s]://[user:password@]host:port[/db])");
        }
        RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(uri.getHost(), uri.getPort());
        server.setDatabase(uri.getDatabase());
        var credentials = uri.getCredentialsProvider().resolveCredentials().block();
        if (credentials != null) {
            if (credentials.getUsername() != null) {
                server.setUsername(credentials.getUsername());
            }
            if (credentials.hasPassword()) {
                server.setPassword(credentials.getPassword());
            }
        }
        ClientOptions options = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(properties.connectTimeout()).keepAlive(true).build())
                .timeoutOptions(TimeoutOptions.enabled(properties.connectTimeout()))
                .build();
        LettuceClientConfiguration.LettuceClientConfigurationBuilder client = LettuceClientConfiguration.builder()
                .clientOptions(options)
                .clientResources(resources)
                .clientName("edge-tunnel-ingress")
                .commandTimeout(properties.connectTimeout());
        if (uri.isSsl()) {
            client.useSsl();
        }
        LettuceConnectionFactory factory = new LettuceConnectionFactory(server, client.build());
        // connect on first use, from the directory's own thread: a replica starts without Redis
        factory.setEagerInitialization(false);
        return factory;
    }
}
