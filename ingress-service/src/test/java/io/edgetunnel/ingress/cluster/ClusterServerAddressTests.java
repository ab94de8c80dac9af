package io.edgetunnel.ingress.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The replica-to-replica listener binds {@code ingress.cluster.address} only. */
class ClusterServerAddressTests {

    @Test
    void clusterListenerBindsOnlyTheConfiguredAddress() throws Exception {
        ClusterServer server = new ClusterServer("127.0.0.2", 0, (request, response) -> Mono.empty(), null, null,
                Duration.ZERO, 16 * 1024);
        server.start();
        try {
            assertThat(connects("127.0.0.2", server.port())).isTrue();
            assertThatThrownBy(() -> connects("127.0.0.1", server.port())).isInstanceOf(ConnectException.class);
        } finally {
            server.stop();
        }
    }

    private static boolean connects(String host, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 10_000);
            return true;
        }
    }
}
