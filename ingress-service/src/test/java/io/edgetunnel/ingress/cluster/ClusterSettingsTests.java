package io.edgetunnel.ingress.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/** What {@code ingress.cluster.*} accepts, and the Redis connection it makes of the URL. */
class ClusterSettingsTests {

    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    static ClusterProperties properties(String url, String secret) {
        return new ClusterProperties(url, secret, 8083, "", "", Duration.ofSeconds(2), Duration.ofSeconds(30), "edgetunnel",
                Duration.ofSeconds(2), Duration.ofMinutes(10), null, ClusterProperties.Transport.LINK, 4096);
    }

    @Test
    void offWithoutAUrlOnWithOne() {
        assertThat(properties("", "").enabled()).isFalse();
        assertThat(properties("redis://127.0.0.1:6379", SECRET).enabled()).isTrue();
    }

    @Test
    void aUrlNeedsALongEnoughSecretAndARedisScheme() {
        assertThatThrownBy(() -> properties("redis://127.0.0.1:6379", "short"))
                .hasMessageContaining("ingress.cluster.secret").hasMessageContaining("at least 32");
        assertThatThrownBy(() -> properties("http://127.0.0.1:6379", SECRET)).hasMessageContaining("redis-url");
    }

    @Test
    void neitherTheSecretNorTheRedisPasswordReachToStringOrLogs() {
        ClusterProperties properties = properties("rediss://user:hunter2-password@cache.example:6379", SECRET);
        assertThat(properties.toString()).doesNotContain(SECRET).doesNotContain("hunter2");
        assertThat(ClusterDirectory.redacted(properties.redisUrl())).isEqualTo("rediss://***@cache.example:6379")
                .doesNotContain("hunter2");
    }

    @Test
    void redissMeansTlsAndTheUrlsUserAndPasswordAuthenticate() {
        ClientResources resources = RedisConnections.resources();
        try {
            LettuceConnectionFactory factory = RedisConnections.factory(
                    properties("rediss://ingress:s3cret-value@cache.example:6380/2", SECRET), resources);
            assertThat(factory.isUseSsl()).isTrue();
            assertThat(factory.getHostName()).isEqualTo("cache.example");
            assertThat(factory.getPort()).isEqualTo(6380);
            assertThat(factory.getDatabase()).isEqualTo(2);
            assertThat(factory.getStandaloneConfiguration().getUsername()).isEqualTo("ingress");
            assertThat(factory.getStandaloneConfiguration().getPassword().get()).isEqualTo("s3cret-value".toCharArray());

            LettuceConnectionFactory plain = RedisConnections.factory(properties("redis://10.0.0.5:6379", SECRET), resources);
            assertThat(plain.isUseSsl()).isFalse();
            assertThat(plain.getStandaloneConfiguration().getPassword().isPresent()).isFalse();
        } finally {
            resources.shutdown();
        }
    }
}
