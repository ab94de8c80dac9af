package io.edgetunnel.ingress.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Agent authentication ({@code ingress.auth.*}).
 *
 * @param token the shared tunnel token ({@code TUNNEL_TOKEN}); required outside the {@code local}
 *     profile
 */
@Validated
@ConfigurationProperties("ingress.auth")
public record AuthProperties(@DefaultValue("") String token) {

    @Override
    public String toString() {
        return "AuthProperties[token=" + (token == null || token.isEmpty() ? "none" : "****") + "]";
    }
}
