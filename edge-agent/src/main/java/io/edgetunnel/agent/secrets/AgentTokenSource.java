package io.edgetunnel.agent.secrets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueResponse;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The agent's tunnel token, from {@code agent.token}, {@code agent.token-file} or a Secrets Manager
 * secret. {@link #current()} never blocks; {@link #refresh()} re-reads the source off the event loop,
 * at most once per {@code agent.token-refresh-min-interval}, and is what the tunnel calls when the
 * ingress rejects the hello with {@code BAD_CREDENTIALS} (the secret may have been rotated).
 */
public final class AgentTokenSource {

    private static final Logger log = LoggerFactory.getLogger(AgentTokenSource.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final AgentTokenProperties properties;
    private final Supplier<SecretsManagerClient> secretsManager;
    private final Clock clock;
    private volatile String token;
    private volatile Instant lastRead = Instant.MIN;

    public AgentTokenSource(AgentTokenProperties properties, Supplier<SecretsManagerClient> secretsManager, Clock clock) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.secretsManager = Objects.requireNonNull(secretsManager, "secretsManager");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.token = properties.token();
    }

    /** Reads the source once, blocking; for startup. A missing or unreadable source is an error. */
    public AgentTokenSource load() {
        token = read();
        lastRead = clock.instant();
        return this;
    }

    /** The last token read; empty when none is configured. */
    public String current() {
        return token;
    }

    /**
     * Re-reads the source unless it was read within the minimum interval. Never fails: on error the
     * previous token stays and a warning (naming the source, not the token) is logged.
     *
     * @return true when the token changed
     */
    public Mono<Boolean> refresh() {
        if (!refreshable()) {
            return Mono.just(false);
        }
        return Mono.fromCallable(() -> {
                    synchronized (this) {
                        Instant now = clock.instant();
                        if (lastRead.plus(properties.tokenRefreshMinInterval()).isAfter(now)) {
                            return false;
                        }
                        lastRead = now;
                        String fresh = read();
                        boolean changed = !fresh.equals(token);
                        token = fresh;
                        if (changed) {
                            log.info("Tunnel token re-read from {}: a new value is in use", describeSource());
                        }
                        return changed;
                    }
                })
                .subscribeOn(Schedulers.boundedElastic())
                .onErrorResume(e -> {
                    log.warn("Tunnel token could not be re-read from {}: {}", describeSource(), e.getMessage());
                    return Mono.just(false);
                });
    }

    /** Whether there is anything to re-read (a file or a secret). */
    public boolean refreshable() {
        return properties.tokenFile() != null || !properties.tokenSecretId().isEmpty();
    }

    /** Where the token comes from, for logs; never the value. */
    public String source() {
        return describeSource();
    }

    String describeSource() {
        if (!properties.tokenSecretId().isEmpty()) {
            return "secret " + properties.tokenSecretId();
        }
        if (properties.tokenFile() != null) {
            return "file " + properties.tokenFile();
        }
        return "agent.token";
    }

    private String read() {
        if (!properties.tokenSecretId().isEmpty()) {
            return readSecret();
        }
        if (properties.tokenFile() != null) {
            try {
                String value = Files.readString(properties.tokenFile(), StandardCharsets.UTF_8).strip();
                if (value.isEmpty()) {
                    throw new TokenSourceException("agent.token-file: " + properties.tokenFile()
                            + " is empty (expected: the tunnel token)");
                }
                return value;
            } catch (IOException e) {
                throw new TokenSourceException("agent.token-file: " + properties.tokenFile() + " unreadable: "
                        + e.getClass().getSimpleName() + " (expected: a readable file holding the tunnel token)");
            }
        }
        return properties.token();
    }

    private String readSecret() {
        String id = properties.tokenSecretId();
        GetSecretValueResponse response;
        try {
            response = secretsManager.get().getSecretValue(r -> r.secretId(id).versionStage("AWSCURRENT"));
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
            throw new TokenSourceException("agent.token-secret-id: " + id + ": " + code + " (HTTP " + e.statusCode()
                    + ") (expected: a secret this task role may read with secretsmanager:GetSecretValue)");
        } catch (SdkException e) {
            throw new TokenSourceException("agent.token-secret-id: " + id + ": " + e.getClass().getSimpleName()
                    + " (expected: Secrets Manager reachable)");
        }
        String value = response.secretString();
        if (value == null) {
            throw new TokenSourceException("agent.token-secret-id: " + id + " has no SecretString (expected: text)");
        }
        if (!properties.tokenSecretJsonKey().isEmpty()) {
            try {
                JsonNode node = JSON.readTree(value).get(properties.tokenSecretJsonKey());
                if (node == null || !node.isString()) {
                    throw new TokenSourceException("agent.token-secret-id: " + id + " has no string field '"
                            + properties.tokenSecretJsonKey() + "' (expected: agent.token-secret-json-key)");
                }
                value = node.asString();
            } catch (JacksonException e) {
                throw new TokenSourceException("agent.token-secret-id: " + id
                        + " is not a JSON object (expected: JSON, because agent.token-secret-json-key is set)");
            }
        }
        value = value.strip();
        if (value.isEmpty()) {
            throw new TokenSourceException("agent.token-secret-id: " + id + " is empty (expected: the tunnel token)");
        }
        return value;
    }
}
