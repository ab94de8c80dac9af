package io.edgetunnel.agent.support;

import java.util.function.Consumer;
import reactor.netty.DisposableServer;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRoutes;

/** A real local app: a Reactor Netty HTTP server on a random loopback port. */
public final class LocalApp implements AutoCloseable {

    private final DisposableServer server;

    public LocalApp(Consumer<HttpServerRoutes> routes) {
        this(routes, HttpProtocol.HTTP11);
    }

    /** An app speaking the given protocols ({@link HttpProtocol#H2C} alone: HTTP/2 prior knowledge only). */
    public LocalApp(Consumer<HttpServerRoutes> routes, HttpProtocol... protocols) {
        this.server = HttpServer.create().host("127.0.0.1").port(0).protocol(protocols).route(routes).bindNow();
    }

    public int port() {
        return server.port();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    @Override
    public void close() {
        server.disposeNow();
    }

    /** A loopback port nothing listens on (bound, then released). */
    public static int freePort() {
        DisposableServer probe = HttpServer.create().host("127.0.0.1").port(0).bindNow();
        int port = probe.port();
        probe.disposeNow();
        return port;
    }
}
