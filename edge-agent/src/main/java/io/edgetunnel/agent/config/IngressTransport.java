package io.edgetunnel.agent.config;

import java.net.URI;
import java.util.Locale;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;

/**
 * The agent's token (or identity proof) and every tunneled request cross the link to the ingress,
 * so outside the {@code local} profile that link must be {@code wss://}: plain {@code ws://} is
 * accepted only to an ingress on this host (loopback), where nothing is on the wire.
 */
final class IngressTransport {

    private IngressTransport() {}

    /** @throws IllegalStateException for {@code ws://} to another host outside the {@code local} profile */
    static void check(URI ingress, Environment environment) {
        String scheme = ingress.getScheme() == null ? "" : ingress.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("ws") || FrameMasking.isLoopback(ingress.getHost())
                || environment.acceptsProfiles(Profiles.of("local"))) {
            return;
        }
        throw new IllegalStateException("agent.ingress-uri: " + ingress + " (expected: wss:// to an ingress on "
                + "another host; ws:// only to a loopback address, or with the 'local' profile)");
    }
}
