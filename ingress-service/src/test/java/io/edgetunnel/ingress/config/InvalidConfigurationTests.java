package io.edgetunnel.ingress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.ingress.IngressApplication;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A bad setting stops the ingress at start, and what the operator reads (the exception chain or
 * Boot's failure report) names the property and what was expected.
 */
@ExtendWith(OutputCaptureExtension.class)
class InvalidConfigurationTests {

    private static Throwable start(String... settings) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0", "--management.server.port=0", "--ingress.tunnel.port=0",
                "--ingress.auth.token=invalid-config-token"));
        for (String setting : settings) {
            args.add("--" + setting);
        }
        Throwable[] failure = new Throwable[1];
        assertThatThrownBy(() -> IngressApplication.application().run(args.toArray(String[]::new)).close())
                .satisfies(error -> failure[0] = error);
        return failure[0];
    }

    private static String chain(Throwable error) {
        StringBuilder messages = new StringBuilder();
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            messages.append(cause.getMessage()).append('\n');
        }
        return messages.toString();
    }

    @Test
    void tooSmallStreamWindowFailsNamingThePropertyAndTheMinimum(CapturedOutput output) {
        start("ingress.tunnel.initial-stream-window=10");

        assertThat(output.getAll())
                .contains("APPLICATION FAILED TO START")
                .contains("ingress.tunnel.initial-stream-window")
                .contains("must be greater than or equal to 1024");
    }

    @Test
    void outOfRangeBodyLimitFailsNamingTheProperty(CapturedOutput output) {
        start("ingress.proxy.max-request-body-bytes=-5");

        assertThat(output.getAll()).contains("ingress.proxy.max-request-body-bytes")
                .contains("must be greater than or equal to -1");
    }

    @Test
    void zeroHeartbeatFailsNamingThePropertyAndWhatWasExpected() {
        Throwable error = start("ingress.tunnel.heartbeat-interval=0s");

        assertThat(chain(error)).contains("ingress.tunnel.heartbeat-interval: PT0S (expected: > 0)");
    }

    @Test
    void zeroResponseTimeoutFailsNamingThePropertyAndWhatWasExpected() {
        Throwable error = start("ingress.proxy.response-timeout=0s");

        assertThat(chain(error)).contains("ingress.proxy.response-timeout: PT0S (expected: > 0)");
    }

    @Test
    void unparseableDurationFailsNamingTheProperty(CapturedOutput output) {
        start("ingress.proxy.response-timeout=soon");

        assertThat(output.getAll()).contains("ingress.proxy.response-timeout").contains("soon");
    }
}
