package io.edgetunnel.ingress.proxy;

import static io.edgetunnel.ingress.proxy.RawConnection.get;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * {@link KeepAliveReadGuard} on a plain Reactor Netty server, as the public and cluster ports use it:
 * {@code /later} answers on a timer (as a proxied request does), anything else at once (as an unknown
 * host does). Pipelining the two puts the second in Reactor Netty's queue and answers it within the
 * queue's dispatch: the case that left the connection unread (reactor/reactor-netty#4361).
 */
class KeepAliveReadGuardTests {

    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(1);
    /** Far above a healthy answer (milliseconds) and the idle close (1 s) on a loaded machine. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(15);

    private final HttpHandler app = (request, response) -> {
        if (request.getPath().value().equals("/later")) {
            return Mono.delay(Duration.ofMillis(20)).then(Mono.defer(() -> response.writeWith(
                    Mono.just(response.bufferFactory().wrap("later".getBytes(StandardCharsets.US_ASCII))))));
        }
        response.setStatusCode(HttpStatus.NOT_FOUND);
        return response.setComplete();
    };

    private DisposableServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.disposeNow();
        }
    }

    private RawConnection connect() throws Exception {
        server = HttpServer.create().host("127.0.0.1").port(0).idleTimeout(IDLE_TIMEOUT)
                .handle(new ReactorHttpHandlerAdapter(new KeepAliveReadGuard(app, IDLE_TIMEOUT)))
                .bindNow();
        return new RawConnection(server.port(), READ_TIMEOUT);
    }

    @Test
    void aResponseEndedWithinTheQueuedDispatchLeavesTheConnectionReading() throws Exception {
        try (RawConnection client = connect()) {
            for (int round = 1; round <= 3; round++) {
                client.send(get("guard.test", "/later") + get("guard.test", "/now"));
                assertThat(client.read()).as("round %d, later", round).startsWith("HTTP/1.1 200");
                assertThat(client.read()).as("round %d, at once", round).startsWith("HTTP/1.1 404");

                client.send(get("guard.test", "/later"));
                assertThat(client.read()).as("round %d, the next request", round).startsWith("HTTP/1.1 200");
            }
        }
    }

    @Test
    void theIdleTimeoutClosesTheConnectionAfterAResponseEndedWithinTheQueuedDispatch() throws Exception {
        try (RawConnection client = connect()) {
            client.send(get("guard.test", "/later") + get("guard.test", "/now"));
            assertThat(client.read()).startsWith("HTTP/1.1 200");
            assertThat(client.read()).startsWith("HTTP/1.1 404");

            // nothing more is sent: the server's idle timeout must close the connection
            assertThat(client.nextByteOrEnd())
                    .as("end of stream from the idle close (-2: still open after %s)", READ_TIMEOUT)
                    .isEqualTo(-1);
        }
    }
}
