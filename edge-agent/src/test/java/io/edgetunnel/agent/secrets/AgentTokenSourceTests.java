package io.edgetunnel.agent.secrets;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.agent.aws.AwsClients;
import io.edgetunnel.agent.aws.AwsStubs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** Token sources, with the real Secrets Manager client against WireMock. */
@ExtendWith(OutputCaptureExtension.class)
class AgentTokenSourceTests {

    private static final String SECRET_ID = "edge/tunnel-token";

    @RegisterExtension
    static WireMockExtension wm = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private final AwsClients clients = AwsStubs.clients(wm);
    private final MutableClock clock = new MutableClock();

    @AfterEach
    void close() {
        clients.close();
    }

    private AgentTokenSource source(String token, Path file, String secretId, String jsonKey) {
        return new AgentTokenSource(new AgentTokenProperties(token, file, secretId, jsonKey, Duration.ofSeconds(30)),
                clients::secretsManager, clock);
    }

    @Test
    void usesThePropertyValue() {
        AgentTokenSource source = source("t0ken-from-env", null, "", "").load();
        assertThat(source.current()).isEqualTo("t0ken-from-env");
        assertThat(source.refreshable()).isFalse();
        assertThat(source.refresh().block()).isFalse();
    }

    @Test
    void readsAFileAndRereadsItAfterARejection(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("token");
        Files.writeString(file, "first-token\n");
        AgentTokenSource source = source("", file, "", "").load();
        assertThat(source.current()).isEqualTo("first-token");
        Files.writeString(file, "second-token\n");
        clock.advance(Duration.ofSeconds(31));
        assertThat(source.refresh().block()).isTrue();
        assertThat(source.current()).isEqualTo("second-token");
    }

    @Test
    void missingFileFailsNamingTheFile(@TempDir Path dir) {
        Path file = dir.resolve("absent");
        assertThatThrownBy(() -> source("", file, "", "").load())
                .isInstanceOf(TokenSourceException.class)
                .hasMessageContaining("agent.token-file: " + file + " unreadable: NoSuchFileException");
    }

    @Test
    void readsTheCurrentSecretVersion() {
        AwsStubs.secret(wm, SECRET_ID, "AWSCURRENT", "secret-token-v1");
        assertThat(source("", null, SECRET_ID, "").load().current()).isEqualTo("secret-token-v1");
    }

    @Test
    void readsASecretGivenByItsArn() {
        String arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:" + SECRET_ID + "-AbCdEf";
        AwsStubs.secret(wm, arn, "AWSCURRENT", "secret-token-by-arn");
        assertThat(source("", null, arn, "").load().current()).isEqualTo("secret-token-by-arn");
    }

    @Test
    void readsAJsonKeyOfTheSecret() {
        AwsStubs.secret(wm, SECRET_ID, "AWSCURRENT", "{\\\"token\\\":\\\"json-token\\\"}");
        assertThat(source("", null, SECRET_ID, "token").load().current()).isEqualTo("json-token");
    }

    @Test
    void rereadsARotatedSecretAfterARejectionAtMostOncePerInterval() {
        AwsStubs.secret(wm, SECRET_ID, "AWSCURRENT", "secret-token-v1");
        AgentTokenSource source = source("", null, SECRET_ID, "").load();
        AwsStubs.secret(wm, SECRET_ID, "AWSCURRENT", "secret-token-v2");

        assertThat(source.refresh().block()).isFalse(); // within the interval: no call
        assertThat(source.current()).isEqualTo("secret-token-v1");
        clock.advance(Duration.ofSeconds(31));
        assertThat(source.refresh().block()).isTrue();
        assertThat(source.current()).isEqualTo("secret-token-v2");
        wm.verify(2, com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor(
                com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo("/")));
    }

    @Test
    void missingSecretFailsAtStartWithTheAwsErrorCode() {
        AwsStubs.secretError(wm, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
        assertThatThrownBy(() -> source("", null, SECRET_ID, "").load())
                .isInstanceOf(TokenSourceException.class)
                .hasMessageContaining("agent.token-secret-id: " + SECRET_ID + ": ResourceNotFoundException (HTTP 400)");
    }

    @Test
    void accessDeniedFailsAtStartWithTheAwsErrorCode() {
        AwsStubs.secretError(wm, "AccessDeniedException", "User is not authorized to perform GetSecretValue");
        assertThatThrownBy(() -> source("", null, SECRET_ID, "").load())
                .isInstanceOf(TokenSourceException.class)
                .hasMessageContaining("AccessDeniedException (HTTP 400)")
                .hasMessageContaining("secretsmanager:GetSecretValue");
    }

    @Test
    void failedRereadKeepsTheTokenAndNeverLogsIt(CapturedOutput output) {
        AwsStubs.secret(wm, SECRET_ID, "AWSCURRENT", "secret-token-v1");
        AgentTokenSource source = source("", null, SECRET_ID, "").load();
        wm.resetAll();
        AwsStubs.secretError(wm, "AccessDeniedException", "denied");
        clock.advance(Duration.ofMinutes(1));
        assertThat(source.refresh().block()).isFalse();
        assertThat(source.current()).isEqualTo("secret-token-v1");
        assertThat(output.getAll()).contains("could not be re-read from secret " + SECRET_ID)
                .doesNotContain("secret-token-v1")
                .doesNotContain(AwsStubs.SECRET_KEY);
    }

    @Test
    void secretWinsOverAnInjectedValueButNotAlongsideAFile(@TempDir Path dir) {
        AwsStubs.secret(wm, SECRET_ID, "AWSCURRENT", "secret-token-v1");
        assertThat(source("injected-value", null, SECRET_ID, "").load().current()).isEqualTo("secret-token-v1");
        assertThatThrownBy(() -> new AgentTokenProperties("", dir.resolve("t"), SECRET_ID, "", Duration.ZERO))
                .hasMessageContaining("expected: at most one of a file and a secret");
        assertThat(new AgentTokenProperties("value", null, "", "", null).toString()).doesNotContain("value");
    }

    static final class MutableClock extends Clock {
        private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-21T10:00:00Z"));

        void advance(Duration d) {
            now.updateAndGet(i -> i.plus(d));
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
