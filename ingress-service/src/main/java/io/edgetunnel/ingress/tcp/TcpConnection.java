package io.edgetunnel.ingress.tcp;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.tunnel.StreamListener;
import io.edgetunnel.ingress.tunnel.TunnelSession;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.TcpRoutes;
import io.edgetunnel.protocol.stream.FrameSink;
import io.edgetunnel.protocol.stream.InboundBody;
import io.edgetunnel.protocol.stream.OutboundBody;
import io.edgetunnel.runtime.tcp.SocketBridge;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * One public TCP connection as one tunnel stream (spec section 20): a CONNECT REQUEST to an agent
 * claiming the route; once the agent answers 200 (it connected its target), the client's bytes go
 * as DATA within the agent's window (the socket is read only with credit) and the agent's DATA is
 * written to the client, credit going back as it leaves. Each direction's FIN is its END_STREAM; both
 * ended, the stream closes and the socket with it. Anything else (the agent resets, refuses, the
 * tunnel is lost, the client resets, the idle timeout) resets both: the client sees a TCP RST, never
 * a clean end of a truncated transfer.
 */
final class TcpConnection implements StreamListener, SocketBridge.Listener {

    /** How long the agent may take to answer a CONNECT: its own connect timeout is far shorter. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(TcpConnection.class);
    private static final Logger access = LoggerFactory.getLogger("io.edgetunnel.ingress.access.tcp");

    private final String route;
    private final RouteClaim claim;
    private final SocketBridge socket;
    private final TcpMetrics metrics;
    private final LongAdder bufferedBytes;
    private final long startNanos = System.nanoTime();
    private final AtomicBoolean finished = new AtomicBoolean();

    private volatile ScheduledFuture<?> answerTimer;
    private volatile String clientAddress;
    private volatile String localAddress;
    private volatile TunnelSession tunnel;
    private volatile int streamId;
    private volatile InboundBody fromAgent;
    private volatile OutboundBody toAgent;
    private volatile boolean sentEnd;
    private volatile boolean wroteEnd;

    /** Call on {@code channel}'s event loop, before it reads anything. */
    TcpConnection(String route, Channel channel, Duration idleTimeout, TcpMetrics metrics, LongAdder bufferedBytes) {
        this.route = route;
        this.claim = TcpRoutes.claim(route);
        this.metrics = metrics;
        this.bufferedBytes = bufferedBytes;
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
        RouteEntry entry = registry.match(claim.host(), "/");
        Tunnel excluded = null;
        int id = -1;
        TunnelSession picked = null;
        // a tunnel may fill up or close between the pick and the open: one more pick, as for HTTP
        for (int attempt = 0; attempt < 2 && entry != null && id < 0; attempt++) {
            Tunnel candidate = entry.pick(excluded);
            if (!(candidate instanceof TunnelSession session)) {
                break;
            }
            picked = session;
            id = session.openStream(this);
            excluded = candidate;
        }
        if (id < 0) {
            if (finished.compareAndSet(false, true)) {
                socket.close();
                record(entry == null ? "no_route" : "no_agent", "-");
            }
            return;
        }
        TunnelSession session = picked;
        int stream = id;
        tunnel = session;
        streamId = id;
        fromAgent = new InboundBody(id, session.initialStreamWindow(), session.windowGrowth(),
                increment -> {
                    if (!finished.get()) {
                        session.send(new Frame.WindowUpdate(stream, increment));
                    }
                },
                () -> { },
                bufferedBytes);
        toAgent = new OutboundBody(id, session.initialStreamWindow(), session.maxDataPayload(), sink(session),
                new OutboundBody.Listener() {
                    @Override
                    public void onComplete() {
                        sentEnd = true;
                        maybeFinish();
                    }

                    @Override
                    public void onError(Throwable cause) {
                        abort(ResetCode.CANCEL, outcomeOf(cause), "client connection failed: " + cause.getMessage());
                    }
                });
        // the agent answers once its connect succeeded or failed (its connect timeout); never wait for ever.
        // Armed before the REQUEST goes out: the answer may arrive before send() returns
        answerTimer = socket.channel().eventLoop().schedule(
                () -> abort(ResetCode.CANCEL, "agent_timeout", "no answer within " + ANSWER_TIMEOUT),
                ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        session.send(new Frame.Request(id, TcpRoutes.METHOD, route, claim.host(), claim.pathPrefix(), headers(), false));
    }

    private List<Header> headers() {
        return List.of(
                new Header(TcpRoutes.SOURCE_HEADER, clientAddress),
                new Header(TcpRoutes.DESTINATION_HEADER, localAddress));
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

    private static FrameSink sink(TunnelSession session) {
        return new FrameSink() {
            @Override
            public void send(Frame frame) {
                session.send(frame);
            }

            @Override
            public boolean writable() {
                return session.writable();
            }

            @Override
            public void whenWritable(Runnable task) {
                session.whenWritable(task);
            }
        };
    }

    // ------------------------------------------------------------------ StreamListener

    @Override
    public void onResponse(Frame.Response response) {
        answerTimer.cancel(false);
        if (response.status() != 200 || response.endStream()) {
            abort(ResetCode.CANCEL, "refused", "agent answered " + response.status() + " (expected: 200)");
            return;
        }
        socket.writeFrom(fromAgent);
        Flux.from(socket).subscribe(toAgent);
    }

    @Override
    public void onData(Frame.Data data) {
        fromAgent.onData(data.content(), data.endStream());
    }

    @Override
    public void onTrailers(Frame.Trailers trailers) {
        abort(ResetCode.PROTOCOL_ERROR, "agent_error", "TRAILERS on a TCP stream (expected: DATA)");
    }

    @Override
    public void onWindowUpdate(int increment) {
        toAgent.addCredit(increment);
    }

    @Override
    public void onReset(Frame.Reset reset) {
        if (finished.compareAndSet(false, true)) {
            tunnel.closeStream(streamId);
            fail(reset.code() == ResetCode.UPSTREAM_CONNECT_FAILED ? "refused" : "agent_reset", reset.code().name());
        }
    }

    @Override
    public void onTunnelClosed(String reason) {
        if (finished.compareAndSet(false, true)) {
            fail("tunnel_lost", reason);
        }
    }

    // ------------------------------------------------------------------ SocketBridge.Listener

    @Override
    public void outputShutdown() {
        wroteEnd = true;
        maybeFinish();
    }

    @Override
    public void failed(Throwable cause) {
        abort(ResetCode.CANCEL, outcomeOf(cause), "client connection failed: " + cause.getMessage());
    }

    // ------------------------------------------------------------------ ending

    private void maybeFinish() {
        if (sentEnd && wroteEnd && finished.compareAndSet(false, true)) {
            tunnel.closeStream(streamId);
            socket.close();
            record("ok", "-");
        }
    }

    private void abort(ResetCode code, String outcome, String why) {
        if (finished.compareAndSet(false, true)) {
            TunnelSession session = tunnel;
            if (session != null) {
                session.closeStream(streamId);
                session.send(new Frame.Reset(streamId, code, why));
            }
            fail(outcome, why);
        }
    }

    private void fail(String outcome, String detail) {
        ScheduledFuture<?> timer = answerTimer;
        if (timer != null) {
            timer.cancel(false);
        }
        socket.reset();
        InboundBody in = fromAgent;
        if (in != null) {
            in.fail(new SocketBridge.SocketClosedException("tcp stream ended: " + outcome));
        }
        OutboundBody out = toAgent;
        if (out != null) {
            out.cancel();
        }
        record(outcome, detail);
    }

    private static String outcomeOf(Throwable cause) {
        return cause instanceof SocketBridge.IdleException ? "idle_timeout" : "client_reset";
    }

    private void record(String outcome, String detail) {
        long nanos = System.nanoTime() - startNanos;
        long in = socket.bytesRead();
        long out = socket.bytesWritten();
        metrics.closed(route, outcome, in, out, nanos);
        TunnelSession session = tunnel;
        access.info("tcp route={} client={} agent={} stream={} outcome={} detail=\"{}\" bytes_in={} bytes_out={} "
                        + "duration_ms={}",
                route, clientAddress, session == null ? "-" : session.agentId(),
                streamId, outcome, detail.length() > 120 ? detail.substring(0, 120) : detail, in, out,
                nanos / 1_000_000);
        log.debug("tcp connection of route {} ended: {}", route, outcome);
    }
}
