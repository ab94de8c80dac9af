package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.proxy.KeepAliveReadGuard;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;

/**
 * The replica-to-replica listener ({@code ingress.cluster.port}): requests other replicas forward
 * here. Plain HTTP/1.1 on the task's private address; the security group admits only other ingress
 * tasks, and every request must carry a valid {@link HopSignature} besides. Peer links (WebSocket
 * upgrades at {@link LinkSettings#PATH}, {@link LinkAcceptor}) and the HTTP hop share the port.
 *
 * <p>Stops after the public port's graceful shutdown and before the tunnels close, giving forwarded
 * requests in flight the drain timeout to finish: while a replica drains, the others may still send
 * it requests for the agents it holds until those agents have moved.
 */
public final class ClusterServer implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ClusterServer.class);
    /** A kept-alive hop connection idle this long is closed (the sending replica's pool keeps less). */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(75);

    private final int configuredPort;
    private final HttpHandler handler;
    private final LoopResources loops;
    private final Duration drainTimeout;
    private final AtomicReference<DisposableServer> server = new AtomicReference<>();

    private final int maxHeaderBytes;
    /** Null: every interface. */
    private final String address;

    /** Null: no peer links (the HTTP hop only). */
    private final LinkAcceptor links;

    ClusterServer(String address, int configuredPort, HttpHandler handler, LinkAcceptor links, LoopResources loops,
            Duration drainTimeout, int maxHeaderBytes) {
        this.links = links;
        this.address = address;
        this.configuredPort = configuredPort;
        this.maxHeaderBytes = maxHeaderBytes;
        this.handler = handler;
        this.loops = loops;
        this.drainTimeout = drainTimeout;
    }

    /** The bound port (useful with port 0); -1 before start. */
    public int port() {
        DisposableServer current = server.get();
        return current == null ? -1 : current.port();
    }

    @Override
    public void start() {
        // whatever header block the public port accepts, plus what the hop adds (forwarding headers, signature)
        HttpServer http = HttpServer.create().port(configuredPort).idleTimeout(IDLE_TIMEOUT)
                .httpRequestDecoder(decoder -> decoder.maxHeaderSize(maxHeaderBytes));
        if (loops != null) {
            http = http.runOn(loops);
        }
        if (address != null) {
            http = http.host(address);
        }
        // the HTTP hop keeps its connections alive too: a refusal answered on the spot must not stall one
        ReactorHttpHandlerAdapter hop = new ReactorHttpHandlerAdapter(new KeepAliveReadGuard(handler, IDLE_TIMEOUT));
        DisposableServer bound = http.handle((request, response) -> links != null && LinkAcceptor.isLink(request)
                ? links.admit(request, response)
                : hop.apply(request, response)).bindNow();
        server.set(bound);
        log.info("Cluster port listening on {}:{}", address == null ? "*" : address, bound.port());
    }

    @Override
    public void stop() {
        DisposableServer current = server.getAndSet(null);
        if (current != null) {
            if (links != null) {
                // long-lived: drained and closed here, or disposeNow would wait the whole timeout for them
                links.stop(System.nanoTime() + drainTimeout.toNanos());
            }
            // waits for forwarded requests in flight, up to the drain timeout; stop() runs on a lifecycle thread
            current.disposeNow(drainTimeout.isZero() ? Duration.ofSeconds(1) : drainTimeout);
        }
    }

    @Override
    public boolean isRunning() {
        return server.get() != null;
    }

    /** Between the public port's graceful shutdown ({@code DEFAULT_PHASE - 1024}) and the tunnels ({@code - 1536}). */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1280;
    }
}
