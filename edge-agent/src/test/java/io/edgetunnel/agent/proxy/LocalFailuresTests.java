package io.edgetunnel.agent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.NotYetConnectedException;
import org.junit.jupiter.api.Test;

/** Which failures of a local exchange count as "never connected", so nothing was sent and it may go again. */
class LocalFailuresTests {

    @Test
    void aConnectThatEpollReportsAsNotYetConnectedIsAConnectFailure() {
        // seen under load: a connect ended by a reset, read before its result, surfaces as this
        assertThat(LocalFailures.isConnectFailure(new NotYetConnectedException())).isTrue();
        assertThat(LocalFailures.isConnectFailure(new IOException("wrapped", new NotYetConnectedException()))).isTrue();
        assertThat(LocalFailures.isConnectFailure(new ConnectException("refused"))).isTrue();
    }

    @Test
    void aFailureAfterTheConnectIsNot() {
        assertThat(LocalFailures.isConnectFailure(new IOException("Connection reset by peer"))).isFalse();
        assertThat(LocalFailures.isConnectFailure(
                reactor.netty.http.client.PrematureCloseException.TEST_EXCEPTION)).isFalse();
    }
}
