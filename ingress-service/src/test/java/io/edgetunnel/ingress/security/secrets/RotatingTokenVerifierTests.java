package io.edgetunnel.ingress.security.secrets;

import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static io.edgetunnel.ingress.security.secrets.SecretsStubs.SECRET_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.edgetunnel.ingress.config.AuthProperties;
import io.edgetunnel.ingress.security.iam.IngressAwsClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** Accepted tokens from a value, a file and Secrets Manager (real SDK against WireMock), with rotation. */
@ExtendWith(OutputCaptureExtension.class)
class RotatingTokenVerifierTests {

    @RegisterExtension
    static WireMockExtension wm = WireMockExtension.newInstance()
            .options(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"))
            .build();

    private final IngressAwsClients clients = SecretsStubs.clients(wm);
    private final MutableClock clock = new MutableClock();
    private RotatingTokenVerifier verifier;

    @AfterEach
    void close() {
        if (verifier != null) {
            verifier.close();
        }
        clients.close();
    }

    private RotatingTokenVerifier secretVerifier(Duration refreshInterval) {
        AuthProperties properties =
                new AuthProperties("", "", null, SECRET_ID, "shared", refreshInterval, Duration.ofSeconds(30));
        verifier = RotatingTokenVerifier.of(properties, TokenLoaders.from(properties, clients::secretsManager), clock);
        return verifier;
    }

    private static Optional<String> name(RotatingTokenVerifier verifier, String token) {
        return verifier.verify(token).block().map(AcceptedTokens.Match::name);
    }

    @Test
    void acceptsThePropertyTokenOnly() {
        AuthProperties properties = new AuthProperties("", "value-token", null, "", "team-a", null, null);
        verifier = RotatingTokenVerifier.of(properties, TokenLoaders.from(properties, () -> null), clock).loadNow();
        assertThat(name(verifier, "value-token")).contains("team-a");
        assertThat(name(verifier, "value-token2")).isEmpty();
        assertThat(name(verifier, "")).isEmpty();
        assertThat(name(verifier, null)).isEmpty();
    }

    @Test
    void rereadsAFileWhenAnUnknownTokenArrives(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("token");
        Files.writeString(file, "file-token-1\n");
        AuthProperties properties = new AuthProperties("", "", file, "", "shared", null, Duration.ofSeconds(30));
        verifier = RotatingTokenVerifier.of(properties, TokenLoaders.from(properties, () -> null), clock).loadNow();
        Files.writeString(file, "file-token-2\n");
        assertThat(name(verifier, "file-token-2")).contains("shared");
        assertThat(name(verifier, "file-token-1")).isEmpty();
    }

    @Test
    void acceptsTheCurrentSecretVersion() {
        SecretsStubs.version(wm, "AWSCURRENT", "current-token");
        SecretsStubs.noVersion(wm, "AWSPREVIOUS");
        RotatingTokenVerifier verifier = secretVerifier(Duration.ofMinutes(5)).loadNow();
        assertThat(verifier.verify("current-token").block()).contains(new AcceptedTokens.Match("shared", "AWSCURRENT"));
        assertThat(verifier.tokens().size()).isEqualTo(1);
    }

    @Test
    void acceptsThePreviousSecretVersionDuringRotation() {
        SecretsStubs.version(wm, "AWSCURRENT", "current-token");
        SecretsStubs.version(wm, "AWSPREVIOUS", "previous-token");
        RotatingTokenVerifier verifier = secretVerifier(Duration.ofMinutes(5)).loadNow();
        assertThat(verifier.verify("previous-token").block()).contains(new AcceptedTokens.Match("shared", "AWSPREVIOUS"));
        assertThat(verifier.verify("current-token").block()).contains(new AcceptedTokens.Match("shared", "AWSCURRENT"));
    }

    @Test
    void acceptsASecretGivenByItsArn() {
        String arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:" + SECRET_ID + "-AbCdEf";
        SecretsStubs.version(wm, arn, "AWSCURRENT", "current-by-arn");
        SecretsStubs.version(wm, arn, "AWSPREVIOUS", "previous-by-arn");
        AuthProperties properties =
                new AuthProperties("", "", null, arn, "shared", Duration.ofMinutes(5), Duration.ofSeconds(30));
        verifier = RotatingTokenVerifier.of(properties, TokenLoaders.from(properties, clients::secretsManager), clock)
                .loadNow();
        assertThat(verifier.verify("current-by-arn").block()).contains(new AcceptedTokens.Match("shared", "AWSCURRENT"));
        assertThat(verifier.verify("previous-by-arn").block()).contains(new AcceptedTokens.Match("shared", "AWSPREVIOUS"));
    }

    @Test
    void jsonSecretHoldsNamedTokens() {
        SecretsStubs.version(wm, "AWSCURRENT", "{\"team-a\":\"token-a\",\"team-b\":\"token-b\"}");
        SecretsStubs.noVersion(wm, "AWSPREVIOUS");
        RotatingTokenVerifier verifier = secretVerifier(Duration.ofMinutes(5)).loadNow();
        assertThat(name(verifier, "token-a")).contains("team-a");
        assertThat(name(verifier, "token-b")).contains("team-b");
    }

    @Test
    void rotationDuringOperationIsPickedUpWhenANewTokenArrives() {
        SecretsStubs.version(wm, "AWSCURRENT", "token-v1");
        SecretsStubs.noVersion(wm, "AWSPREVIOUS");
        RotatingTokenVerifier verifier = secretVerifier(Duration.ofHours(1)).loadNow();
        assertThat(name(verifier, "token-v2")).isEmpty(); // not yet rotated: one re-read, still unknown

        SecretsStubs.version(wm, "AWSCURRENT", "token-v2");
        SecretsStubs.version(wm, "AWSPREVIOUS", "token-v1");
        assertThat(name(verifier, "token-v2")).as("within the min interval: no re-read").isEmpty();
        clock.advance(Duration.ofSeconds(31));
        assertThat(verifier.verify("token-v2").block()).contains(new AcceptedTokens.Match("shared", "AWSCURRENT"));
        assertThat(verifier.verify("token-v1").block()).contains(new AcceptedTokens.Match("shared", "AWSPREVIOUS"));
        // 3 loads (start, first unknown, after the interval) x 2 stages
        wm.verify(6, postRequestedFor(urlEqualTo("/")));
    }

    @Test
    void unknownTokensCannotMakeTheIngressHammerSecretsManager() {
        SecretsStubs.version(wm, "AWSCURRENT", "token-v1");
        SecretsStubs.noVersion(wm, "AWSPREVIOUS");
        RotatingTokenVerifier verifier = secretVerifier(Duration.ofHours(1)).loadNow();
        for (int i = 0; i < 50; i++) {
            assertThat(name(verifier, "guess-" + i)).isEmpty();
        }
        wm.verify(4, postRequestedFor(urlEqualTo("/")));
    }

    @Test
    void scheduledRefreshPicksUpARotation() {
        SecretsStubs.version(wm, "AWSCURRENT", "token-v1");
        SecretsStubs.noVersion(wm, "AWSPREVIOUS");
        RotatingTokenVerifier verifier = secretVerifier(Duration.ofSeconds(1)).loadNow().startSchedule();
        SecretsStubs.version(wm, "AWSCURRENT", "token-v2");
        SecretsStubs.version(wm, "AWSPREVIOUS", "token-v1");
        await().atMost(Duration.ofSeconds(20))
                .until(() -> verifier.tokens().match("token-v2").isPresent());
        assertThat(verifier.tokens().match("token-v1")).isPresent();
    }

    @Test
    void missingSecretStopsStartup() {
        SecretsStubs.noVersion(wm, "AWSCURRENT");
        assertThatThrownBy(() -> secretVerifier(Duration.ofMinutes(5)).loadNow())
                .isInstanceOf(TokenSourceException.class)
                .hasMessageContaining("ingress.auth.token-secret-id: " + SECRET_ID + ": ResourceNotFoundException");
    }

    @Test
    void accessDeniedStopsStartup() {
        SecretsStubs.error(wm, "AWSCURRENT", "AccessDeniedException", "not authorized to perform secretsmanager:GetSecretValue");
        assertThatThrownBy(() -> secretVerifier(Duration.ofMinutes(5)).loadNow())
                .isInstanceOf(TokenSourceException.class)
                .hasMessageContaining("AWSCURRENT: AccessDeniedException (HTTP 400)");
    }

    @Test
    void accessDeniedDuringOperationKeepsTheLastTokensAndLogsNoSecret(CapturedOutput output) {
        SecretsStubs.version(wm, "AWSCURRENT", "kept-token-value");
        SecretsStubs.noVersion(wm, "AWSPREVIOUS");
        RotatingTokenVerifier verifier = secretVerifier(Duration.ofMinutes(5)).loadNow();
        wm.resetAll();
        SecretsStubs.error(wm, "AWSCURRENT", "AccessDeniedException", "denied");
        assertThat(verifier.refresh().block()).isFalse();
        assertThat(name(verifier, "kept-token-value")).contains("shared");
        assertThat(output.getAll()).contains("could not be re-read from secret " + SECRET_ID)
                .contains("AccessDeniedException")
                .doesNotContain("kept-token-value")
                .doesNotContain(SecretsStubs.SECRET_KEY);
    }

    @Test
    void propertiesNeverPrintTheToken() {
        assertThat(new AuthProperties("", "printed?", null, "", null, null, null).toString()).doesNotContain("printed?");
        assertThatThrownBy(() -> new AuthProperties("", "", Path.of("/x"), SECRET_ID, null, null, null))
                .hasMessageContaining("expected: at most one token source");
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
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
