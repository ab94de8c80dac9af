package io.edgetunnel.ingress.tcp;

import io.edgetunnel.ingress.cluster.PeerLinks;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.tunnel.StreamOpener;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.TcpRoutes;
import io.edgetunnel.protocol.session.StreamEnd;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.edgetunnel.runtime.tcp.SocketBridge;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * One public TCP connection as one tunnel stream (spec section 20), the ingress's handler of a
 * {@link TunnelStream} it opens, as {@code proxy.ProxyStream} is for HTTP: a CONNECT REQUEST to an
 * agent claiming the route; once the agent answers 200 (it connected its target), the client's bytes go
 * as DATA within the agent's window (the socket is read only with credit) and the agent's DATA is
 * written to the client, credit going back as it leaves. Each direction's FIN is its END_STREAM; both
 * ended, the stream closes and the socket with it; the agent's direction ending first ends nothing
 * else ({@link #onRemoteEnd}, where HTTP resets the request side). Anything else (the agent resets, refuses, the
 * tunnel is lost, the client resets, the idle timeout) resets both: the client sees a TCP RST, never
 * a clean end of a truncated transfer.
 *
 * <p>With a cluster, a route no local agent serves goes to a replica that holds it, as a stream on the
 * peer link to it ({@code cluster.PeerLinks}): the same REQUEST and frames, spliced there onto that
 * replica's agent. A holder that cannot be reached or refuses the stream (its directory entry was stale)
 * is replaced by another once; nothing of the client's was read yet. So is a local agent that did not
 * take it (refused it, or its tunnel closed or began draining before the REQUEST went out): another
 * local tunnel of the route, else a holder, once ({@link TcpAttempt}).
 */
final class TcpConnection implements StreamHandler, SocketBridge.Listener {

    /** How long the agent may take to answer a CONNECT: its own connect timeout is far shorter. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(TcpConnection.class);
    private static final Logger access = LoggerFactory.getLogger("io.edgetunnel.ingress.access.tcp");

    private final String route;
    private final RouteClaim claim;
    private final SocketBridge socket;
    private final TcpMetrics metrics;
    private final long startNanos = System.nanoTime();
    /** The connection's outcome is recorded: once, by the stream's end or before any stream opened. */
    private final AtomicBoolean finished = new AtomicBoolean();

    private volatile ScheduledFuture<?> answerTimer;
    private volatile String clientAddress;
    private volatile String localAddress;
    private volatile TunnelStream stream;
    /** Where the stream goes, and once more when it was not taken. */
    private final TcpAttempt attempt;
    private volatile boolean answered;
    private volatile boolean sentEnd;
    private volatile boolean wroteEnd;

    /** Call on {@code channel}'s event loop, before it reads anything. */
    TcpConnection(String route, Channel channel, Duration idleTimeout, TcpMetrics metrics, PeerLinks links) {
        this.route = route;
        this.claim = TcpRoutes.claim(route);
        this.attempt = new TcpAttempt(this, route, claim, links);
        this.metrics = metrics;
        this.socket = SocketBridge.install(channel, idleTimeout, this);
        this.clientAddress = address(channel.remoteAddress());
        this.localAddress = address(channel.localAddress());
        metrics.opened();
    }

    /** Opens the stream with the socket's own addresses (no PROXY protocol). */
    void open(AgentRegistry registry) {
        open(registry, null, null);
    }

    /**
     * Opens the stream on a tunnel of an agent claiming the route; none: the client is closed at once.
     * On the socket's event loop.
     *
     * @param source the client's {@code ip:port} from a PROXY protocol header; null: the socket's peer
     * @param destination the address the client connected to, from the header; null: the socket's own
     */
    void open(AgentRegistry registry, String source, String destination) {
        if (source != null) {
            clientAddress = source;
        }
        if (destination != null) {
            localAddress = destination;
        }
        attempt.open(registry);
    }

    /** Opens the connection's stream on {@code opener}; null if it takes none now. */
    TunnelStream openOn(StreamOpener opener) {
        return opener.openStream(this::request, this::attach);
    }

    boolean isFinished() {
        return finished.get();
    }

    /** No agent or holder takes the connection: the client is closed at once. */
    void giveUp(String outcome) {
        if (finished.compareAndSet(false, true)) {
            socket.close();
            record(outcome, "-");
        }
    }

    /** The stream exists, its REQUEST not queued yet: the handler is this connection. */
    private StreamHandler attach(TunnelStream opened) {
        stream = opened;
        // the agent answers once its connect succeeded or failed (its connect timeout); never wait for ever.
        // Armed before the REQUEST goes out: the answer may arrive before openStream returns
        answerTimer = socket.channel().eventLoop().schedule(
                () -> abort(ResetCode.CANCEL, "agent_timeout", "no answer within " + ANSWER_TIMEOUT),
                ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private Frame.Request request(int id) {
        List<Header> headers = List.of(
                new Header(TcpRoutes.SOURCE_HEADER, clientAddress),
                new Header(TcpRoutes.DESTINATION_HEADER, localAddress));
        return new Frame.Request(id, TcpRoutes.METHOD, route, claim.host(), claim.pathPrefix(), headers, false);
    }

    /**
     * A PROXY header with the {@code LOCAL} command: the balancer's own connection, a health check.
     * Closed with a FIN and no stream; counted, but no access line (one per NLB node every 30 s).
     */
    void closeBalancerCheck() {
        if (finished.compareAndSet(false, true)) {
            // counted before the FIN goes out: whoever sees the connection end sees it counted
            metrics.closed(route, "balancer_check", socket.bytesRead(), socket.bytesWritten(),
                    System.nanoTime() - startNanos);
            socket.close();
        }
    }

    /** The PROXY protocol header was malformed, missing or late: the client is reset, no stream opened. */
    void rejectHeader(String why) {
        if (finished.compareAndSet(false, true)) {
            socket.reset();
            record("bad_proxy_header", why);
        }
    }

    private static String address(SocketAddress address) {
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            String host = inet.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    // ------------------------------------------------------------------ StreamHandler (tunnel's event loop)

    /** 200: the agent connected its target; the client's bytes go out within the agent's window. */
    @Override
    public void onResponse(Frame.Response response) {
        cancelAnswerTimer();
        answered = true;
        if (response.status() != 200 || response.endStream()) {
            abort(ResetCode.CANCEL, "refused", "agent answered " + response.status() + " (expected: 200)");
            return;
        }
        TunnelStream current = stream;
        OutboundBody clientBytes = current.newBody(new OutboundBody.Listener() {
            @Override
            public void onComplete() {
                // the client's FIN went out as END_STREAM
                sentEnd = true;
                maybeFinish();
            }

            @Override
            public void onError(Throwable cause) {
                abort(ResetCode.CANCEL, outcomeOf(cause), "client connection failed: " + cause.getMessage());
            }
        }, List::of);
        // the socket joins the thread this stream's frames come and go on (a tunnel's or a peer link's
        // loop) before a byte moves; then the agent's DATA (the stream's inbound body, credit going back
        // as it is taken) goes to the client, and the client's bytes to the agent
        EventExecutor here = ThreadExecutorMap.currentExecutor();
        socket.moveTo(here instanceof EventLoop loop ? loop : null, () -> {
            socket.writeFrom(current.inbound());
            Flux.from(socket).subscribe(clientBytes);
        });
    }

    @Override
    public void onTrailers(List<Header> trailers) {
        abort(ResetCode.PROTOCOL_ERROR, "agent_error", "TRAILERS on a TCP stream (expected: DATA)");
    }

    /**
     * The agent's direction ended (its target's FIN): unlike an HTTP response, that ends nothing else
     * (spec section 20). The client's direction goes on; our FIN goes to the client once the inbound
     * body drained into the socket ({@link #outputShutdown}).
     */
    @Override
    public void onRemoteEnd() {}

    @Override
    public void onEnd(StreamEnd end) {
        if (!answered && !finished.get() && attempt.retries(end)) {
            cancelAnswerTimer();
            TunnelStream refused = stream;
            refused.releaseBodies();
            stream = null; // until another stream opens, a client failing ends the connection (abort)
            if (attempt.retry()) {
                TunnelStream reopened = stream;
                if (reopened != null && finished.get()) {
                    reopened.reset(ResetCode.CANCEL, "client went away"); // while the stream was reopened
                }
                return;
            }
            stream = refused; // nowhere else: it fails as it ended
        }
        if (!finished.compareAndSet(false, true)) {
            // the client went away while the stream was retried: whatever the stream holds is freed
            TunnelStream current = stream;
            if (current != null) {
                current.releaseBodies();
            }
            return;
        }
        cancelAnswerTimer();
        if (end instanceof StreamEnd.Completed) {
            socket.close();
            stream.releaseBodies();
            record("ok", "-");
        } else if (end instanceof StreamEnd.LocalReset reset) {
            fail(reset.cause() instanceof Outcome outcome ? outcome.name : "agent_error", reset.message());
        } else if (end instanceof StreamEnd.PeerReset reset) {
            fail(reset.code() == ResetCode.UPSTREAM_CONNECT_FAILED ? "refused" : "agent_reset", reset.code().name());
        } else if (end instanceof StreamEnd.TunnelClosed closed) {
            fail("tunnel_lost", closed.reason());
        }
    }

    // ------------------------------------------------------------------ SocketBridge.Listener (socket's event loop)

    @Override
    public void outputShutdown() {
        // the agent's END_STREAM reached the client as our FIN
        wroteEnd = true;
        maybeFinish();
    }

    @Override
    public void failed(Throwable cause) {
        abort(ResetCode.CANCEL, outcomeOf(cause), "client connection failed: " + cause.getMessage());
    }

    // ------------------------------------------------------------------ ending

    /** Both directions ended: the stream closes without a reset, the socket after it. */
    private void maybeFinish() {
        if (sentEnd && wroteEnd) {
            stream.complete();
        }
    }

    /** Resets the stream (the agent is told) and the client; before any stream: the client only. */
    private void abort(ResetCode code, String outcome, String why) {
        TunnelStream current = stream;
        if (current != null) {
            current.reset(code, why, new Outcome(outcome));
        } else if (finished.compareAndSet(false, true)) {
            fail(outcome, why);
        }
    }

    private void fail(String outcome, String detail) {
        cancelAnswerTimer();
        socket.reset();
        TunnelStream current = stream;
        if (current != null) {
            current.inbound().fail(new SocketBridge.SocketClosedException("tcp stream ended: " + outcome));
            current.releaseBodies();
        }
        record(outcome, detail);
    }

    private void cancelAnswerTimer() {
        ScheduledFuture<?> timer = answerTimer;
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private static String outcomeOf(Throwable cause) {
        return cause instanceof SocketBridge.IdleException ? "idle_timeout" : "client_reset";
    }

    private void record(String outcome, String detail) {
        long nanos = System.nanoTime() - startNanos;
        long in = socket.bytesRead();
        long out = socket.bytesWritten();
        metrics.closed(route, outcome, in, out, nanos);
        TunnelStream current = stream;
        access.info("tcp route={} client={} agent={} stream={} outcome={} detail=\"{}\" bytes_in={} bytes_out={} "
                        + "duration_ms={}",
                route, clientAddress, attempt.agentId(),
                current == null ? 0 : current.id(), outcome, detail.length() > 120 ? detail.substring(0, 120) : detail,
                in, out, nanos / 1_000_000);
        log.debug("tcp connection of route {} ended: {}", route, outcome);
    }

    /** Why this side reset the stream, carried to {@link #onEnd} as the reset's cause. */
    private static final class Outcome extends RuntimeException {

        private final String name;

        Outcome(String name) {
            super(name, null, false, false);
            this.name = name;
        }
    }
}
