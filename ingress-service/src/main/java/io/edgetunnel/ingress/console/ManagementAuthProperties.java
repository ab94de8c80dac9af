package io.edgetunnel.ingress.console;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Optional HTTP basic auth for the management port ({@code ingress.management.*}): off unless
 * {@code username} is set. Health probes stay open (the load balancer checks them without
 * credentials); the console, its JSON, {@code /actuator/tunnels} and Prometheus then need the
 * credentials.
 *
 * @param username the user basic auth asks for on the management port; empty (the default) turns it off
 * @param password required when {@code username} is set; from the environment
 *     ({@code INGRESS_MANAGEMENT_PASSWORD}) or a secret, never a file in the image
 */
@ConfigurationProperties("ingress.management")
public record ManagementAuthProperties(@DefaultValue("") String username, @DefaultValue("") String password) {

    public ManagementAuthProperties {
        if (username != null && !username.isEmpty() && (password == null || password.isEmpty())) {
            throw new IllegalArgumentException("ingress.management.password: empty (expected: set when "
                    + "ingress.management.username is, e.g. INGRESS_MANAGEMENT_PASSWORD)");
        }
    }

    public boolean enabled() {
        return username != null && !username.isEmpty();
    }

    @Override
    public String toString() {
        return "ManagementAuthProperties[username=" + username + ", password=" + (enabled() ? "****" : "none") + "]";
    }
}
