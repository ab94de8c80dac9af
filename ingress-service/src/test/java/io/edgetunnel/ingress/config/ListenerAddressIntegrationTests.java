package io.edgetunnel.ingress.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgetunnel.ingress.IngressApplication;
import io.edgetunnel.ingress.support.IngressTest;
import io.edgetunnel.ingress.support.OwnEventLoops;
import io.edgetunnel.ingress.tunnel.TunnelServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Every listener binds where it is told: the real ingress with its public, management and tunnel
 * listeners on 127.0.0.2 answers there and not on 127.0.0.1 (another address of the same host, as a
 * second network interface would be).
 */
class ListenerAddressIntegrationTests {

    @Test
    void publicManagementAndTunnelListenersBindOnlyTheConfiguredAddress() throws Exception {
        try (ConfigurableApplicationContext context = OwnEventLoops.apply(IngressApplication.application()).run(
                "--spring.config.name=ingress", "--server.port=0", "--management.server.port=0",
                "--ingress.tunnel.port=0", "--ingress.auth.token=" + IngressTest.TOKEN,
                "--server.address=127.0.0.2", "--management.server.address=127.0.0.2",
                "--ingress.tunnel.address=127.0.0.2")) {
            int publicPort = ((WebServerApplicationContext) context).getWebServer().getPort();
            int managementPort = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
            int tunnelPort = context.getBean(TunnelServer.class).port();

            for (int port : new int[] {publicPort, managementPort, tunnelPort}) {
                assertThat(connects("127.0.0.2", port)).as("port %d on 127.0.0.2", port).isTrue();
                assertThatThrownBy(() -> connects("127.0.0.1", port)).as("port %d on 127.0.0.1", port)
                        .isInstanceOf(ConnectException.class);
            }
        }
    }

    private static boolean connects(String host, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 10_000);
            return true;
        }
    }
}
