package io.edgetunnel.ingress.security.secrets;

import io.edgetunnel.ingress.config.AuthProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.model.ResourceNotFoundException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The token sources: a property value, a file, or a Secrets Manager secret (current and previous). */
public final class TokenLoaders {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TokenLoaders() {}

    /** Picks the source {@code properties} name; a value alone is not refreshable. */
    public static TokenLoader from(AuthProperties properties, Supplier<SecretsManagerClient> secretsManager) {
        if (!properties.tokenSecretId().isEmpty()) {
            return secret(properties.tokenSecretId(), properties.tokenName(), secretsManager);
        }
        if (properties.tokenFile() != null) {
            return file(properties.tokenFile(), properties.tokenName());
        }
        String token = properties.token();
        String name = properties.tokenName();
        return () -> AcceptedTokens.builder().add(name, "property", token).build();
    }

    public static TokenLoader file(Path file, String name) {
        return new TokenLoader() {
            @Override
            public AcceptedTokens load() {
                try {
                    String value = Files.readString(file, StandardCharsets.UTF_8).strip();
                    if (value.isEmpty()) {
                        throw new TokenSourceException("ingress.auth.token-file: " + file + " is empty (expected: a token)");
                    }
                    return AcceptedTokens.builder().add(name, "file", value).build();
                } catch (IOException e) {
                    throw new TokenSourceException("ingress.auth.token-file: " + file + " unreadable: "
                            + e.getClass().getSimpleName() + " (expected: a readable file holding the token)");
                }
            }

            @Override
            public String describe() {
                return "file " + file;
            }
        };
    }

    /**
     * {@code AWSCURRENT} must exist; {@code AWSPREVIOUS} is added when present (it is absent until the
     * first rotation, which Secrets Manager reports as {@code ResourceNotFoundException}).
     */
    public static TokenLoader secret(String secretId, String name, Supplier<SecretsManagerClient> secretsManager) {
        return new TokenLoader() {
            @Override
            public AcceptedTokens load() {
                AcceptedTokens.Builder tokens = AcceptedTokens.builder();
                String current = read(secretsManager.get(), secretId, "AWSCURRENT")
                        .orElseThrow(() -> new TokenSourceException("ingress.auth.token-secret-id: " + secretId
                                + ": ResourceNotFoundException (expected: an existing secret with an AWSCURRENT version)"));
                addAll(tokens, secretId, name, "AWSCURRENT", current);
                read(secretsManager.get(), secretId, "AWSPREVIOUS")
                        .ifPresent(previous -> addAll(tokens, secretId, name, "AWSPREVIOUS", previous));
                return tokens.build();
            }

            @Override
            public String describe() {
                return "secret " + secretId;
            }
        };
    }

    private static Optional<String> read(SecretsManagerClient client, String secretId, String stage) {
        try {
            String value = client.getSecretValue(r -> r.secretId(secretId).versionStage(stage)).secretString();
            if (value == null) {
                throw new TokenSourceException("ingress.auth.token-secret-id: " + secretId + " " + stage
                        + " has no SecretString (expected: text)");
            }
            return Optional.of(value);
        } catch (ResourceNotFoundException e) {
            return Optional.empty();
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
            throw new TokenSourceException("ingress.auth.token-secret-id: " + secretId + " " + stage + ": " + code
                    + " (HTTP " + e.statusCode() + ") (expected: secretsmanager:GetSecretValue allowed to the ingress role)");
        } catch (SdkException e) {
            throw new TokenSourceException("ingress.auth.token-secret-id: " + secretId + " " + stage + ": "
                    + e.getClass().getSimpleName() + " (expected: Secrets Manager reachable)");
        }
    }

    /** A plain string is one token; a JSON object maps names to tokens. */
    private static void addAll(AcceptedTokens.Builder tokens, String secretId, String name, String stage, String value) {
        String trimmed = value.strip();
        if (trimmed.startsWith("{")) {
            try {
                JsonNode root = JSON.readTree(trimmed);
                for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    if (field.getValue().isString()) {
                        tokens.add(field.getKey(), stage, field.getValue().asString().strip());
                    }
                }
                return;
            } catch (JacksonException e) {
                throw new TokenSourceException("ingress.auth.token-secret-id: " + secretId + " " + stage
                        + " starts with { but is not a JSON object (expected: a token, or {\"name\": \"token\", …})");
            }
        }
        if (trimmed.isEmpty()) {
            throw new TokenSourceException("ingress.auth.token-secret-id: " + secretId + " " + stage + " is empty");
        }
        tokens.add(name, stage, trimmed);
    }
}
