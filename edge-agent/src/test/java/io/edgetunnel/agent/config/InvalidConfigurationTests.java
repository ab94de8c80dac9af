package io.edgetunnel.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.agent.EdgeAgentApplication;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A bad setting stops the agent at start, and what the operator reads (the exception chain or
 * Boot's failure report) names the property and what was expected.
 */
@ExtendWith(OutputCaptureExtension.class)
class InvalidConfigurationTests {

    private static final String ROUTE = "agent.routes=app.example.com=http://127.0.0.1:3000";

    private static String start(String... settings) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0", "--agent.token=invalid-config-token", "--agent.identity.mode=off"));
        for (String setting : settings) {
            args.add("--" + setting);
        }
        StringBuilder messages = new StringBuilder();
        assertThatThrownBy(() -> EdgeAgentApplication.application().run(args.toArray(String[]::new)).close())
                .satisfies(error -> {
                    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
                        messages.append(cause.getMessage()).append('\n');
                    }
                });
        return messages.toString();
    }

    @Test
    void noRoutesFailsNamingTheProperty(CapturedOutput output) {
        start("agent.ingress-uri=ws://127.0.0.1:9/tunnel");

        assertThat(output.getAll())
                .contains("APPLICATION FAILED TO START")
                .contains("agent.routes: none")
                .contains("agent.tcp-routes");
    }

    @Test
    void tcpRoutesAloneAreEnoughAndABadOneFailsNamingIt(CapturedOutput output) {
        start("agent.ingress-uri=ws://127.0.0.1:9/tunnel", "agent.tcp-routes=ssh=127.0.0.1");

        assertThat(output.getAll())
                .contains("APPLICATION FAILED TO START")
                .contains("tcp route ssh: target 127.0.0.1 (expected: host:port");
    }

    @Test
    void missingIngressUriFailsNamingThePropertyAndItsVariable() {
        String messages = start(ROUTE);

        assertThat(messages).contains("agent.ingress-uri: not set (expected: ws://").contains("AGENT_INGRESS_URI");
    }

    @Test
    void httpIngressUriFailsSayingWebSocketWasExpected() {
        String messages = start("agent.ingress-uri=http://ingress.example.com/tunnel", ROUTE);

        assertThat(messages).contains("agent.ingress-uri: http://ingress.example.com/tunnel (expected: ws://");
    }

    @Test
    void plainWebSocketToAnotherHostIsRefusedOutsideTheLocalProfile() {
        String messages = start("agent.ingress-uri=ws://10.0.0.7:8082/tunnel", ROUTE);

        assertThat(messages).contains("agent.ingress-uri: ws://10.0.0.7:8082/tunnel (expected: wss:// to an ingress "
                + "on another host");
    }

    @Test
    void routeWithoutUrlFailsSayingWhatARouteLooksLike(CapturedOutput output) {
        String messages = start("agent.ingress-uri=ws://127.0.0.1:9/tunnel", "agent.routes=app.example.com");

        assertThat(messages + output.getAll()).contains("agent.routes").contains("expected: host[/path-prefix]=http://host:port");
    }

    @Test
    void routeToANonHttpUrlFailsSayingHttpWasExpected(CapturedOutput output) {
        String messages = start("agent.ingress-uri=ws://127.0.0.1:9/tunnel", "agent.routes=app.example.com=ftp://127.0.0.1/");

        assertThat(messages + output.getAll()).contains("agent.routes").contains("expected: http://");
    }

    @Test
    void zeroLocalResponseTimeoutFailsNamingThePropertyAndWhatWasExpected() {
        String messages = start("agent.ingress-uri=ws://127.0.0.1:9/tunnel", ROUTE, "agent.local.response-timeout=0s");

        assertThat(messages).contains("agent.local.response-timeout: PT0S (expected: > 0)");
    }

    @Test
    void tooManyTunnelsFailsNamingTheLimit() {
        String messages = start("agent.ingress-uri=ws://127.0.0.1:9/tunnel", ROUTE, "agent.tunnel-count=99");

        assertThat(messages).contains("agent.tunnel-count: 99 (expected: 1..16)");
    }

    @Test
    void redialsOverTheLimitFailNamingTheProperty() {
        String messages = start("agent.ingress-uri=ws://127.0.0.1:9/tunnel", ROUTE, "agent.spread.max-redials=33");

        assertThat(messages).contains("agent.spread.max-redials: 33 (expected: 0..32)");
    }

    @Test
    void zeroLocalConnectionsFailNamingTheProperty() {
        String messages = start("agent.ingress-uri=ws://127.0.0.1:9/tunnel", ROUTE, "agent.local.max-connections=0");

        assertThat(messages).contains("agent.local.max-connections: 0 (expected: >= 1)");
    }
}
