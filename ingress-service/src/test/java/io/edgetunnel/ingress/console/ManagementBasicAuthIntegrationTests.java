package io.edgetunnel.ingress.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.Http;
import io.edgetunnel.testsupport.NoLeaks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import reactor.netty.http.client.HttpClient;

/** With {@code ingress.management.username} set, the management port wants basic auth, except for health. */
@ExtendWith(NoLeaks.class)
@SpringBootTest(
        classes = IngressApplication.class,
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "spring.config.name=ingress",
            "server.port=0",
            "management.server.port=0",
            // loopback only: on a shared machine a wildcard port can be shadowed by another process's
            // loopback listener on the same number, which then swallows the request
            "server.address=127.0.0.1",
            "management.server.address=127.0.0.1",
            "ingress.tunnel.port=0",
            "ingress.auth.token=basic-auth-test-token-1",
            "ingress.management.username=operator",
            "ingress.management.password=s3cret-console"
        })
class ManagementBasicAuthIntegrationTests {

    @LocalManagementPort
    int managementPort;

    @LocalServerPort
    int publicPort;

    /** On a new connection each time, so no keep-alive connection pooled by an earlier test is reused. */
    private Http.Reply get(int port, String path, String user, String password) {
        return HttpClient.newConnection()
                .port(port)
                .host("127.0.0.1")
                .responseTimeout(Duration.ofSeconds(20))
                .headers(h -> {
                    h.set("Host", "localhost");
                    if (user != null) {
                        h.set("Authorization", "Basic " + Base64.getEncoder()
                                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
                    }
                })
                .get()
                .uri(path)
                .responseSingle(Http::reply)
                .block(Duration.ofSeconds(30));
    }

    @Test
    void consoleAndEndpointsNeedTheCredentialsButHealthProbesDoNot() {
        for (String path : new String[] {"/", "/actuator/console", "/actuator/tunnels", "/actuator/prometheus"}) {
            Http.Reply anonymous = get(managementPort, path, null, null);
            Http.Reply wrong = get(managementPort, path, "operator", "guess");
            Http.Reply right = get(managementPort, path, "operator", "s3cret-console");

            assertThat(anonymous.status()).as(path).isEqualTo(401);
            assertThat(anonymous.headers().get("WWW-Authenticate")).as(path).startsWith("Basic realm=");
            assertThat(wrong.status()).as(path).isEqualTo(401);
            assertThat(right.status()).as(path).isEqualTo(200);
            assertThat(right.body()).as(path).doesNotContain("s3cret-console");
        }
        assertThat(get(managementPort, "/actuator/health/readiness", null, null).status()).isEqualTo(200);
        assertThat(get(managementPort, "/actuator/health", null, null).status()).isEqualTo(200);
    }

    @Test
    void publicPortIsUntouchedByTheManagementAuth() {
        Http.Reply reply = get(publicPort, "/", null, null);

        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.headers().get("WWW-Authenticate")).isNull();
    }
}
