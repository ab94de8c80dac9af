package io.edgetunnel.ingress.security.policy;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param trustedProxies CIDRs of proxies whose {@code X-Forwarded-For} names the client (the ALB
 *     subnets); env {@code INGRESS_PROXY_TRUSTED_PROXIES}, comma-separated
 */
@ConfigurationProperties("ingress.proxy")
public record TrustedProxiesProperties(@DefaultValue List<String> trustedProxies) {

    public TrustedProxiesProperties {
        trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
    }
}
