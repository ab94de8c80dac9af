import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.session.ConnectionSide;
import io.edgetunnel.protocol.session.Role;
import io.edgetunnel.protocol.session.SessionLimits;
import io.edgetunnel.protocol.session.StreamEnd;
import io.edgetunnel.protocol.session.StreamSettings;
import io.edgetunnel.protocol.session.TunnelConnection;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;

/**
 * Lightweight agent simulator for the idle-agents and churn cases of bench/run.sh: speaks the tunnel
 * protocol (shared-protocol's session core, {@code TunnelConnection} in the acceptor role, over a
 * Reactor Netty WebSocket) without Spring, so one JVM can hold 10,000 agents.
 *
 * <pre>
 * java -cp "$(bench classpath)" bench/IdleAgents.java --mode idle|churn --uri ws://127.0.0.1:T/tunnel
 *      --token X --count N --host-format 'idle-%d.bench.local' [--stop-file F] [--duration S]
 *      [--timeout S] [--result out.json] [--connect-concurrency 256] [--period-ms 250] [--ready-file F]
 * </pre>
 *
 * <ul>
 *   <li>idle: opens N tunnels, each says Hello with the token and one route ({@code host-format}
 *       formatted with the agent's index), waits for Accept, and then only heartbeats (and refuses any
 *       stream). When all
 *       are registered (or the timeout passed) it writes the result file, then holds the tunnels
 *       until the stop file appears, and closes them.
 *   <li>churn: keeps N agents claiming {@code host-format} as is (the stable route the load runs
 *       against) and, for {@code --duration} seconds or until the stop file appears, replaces the oldest one every
 *       {@code --period-ms} (250); the ready file is written once the first N are registered: the
 *       leaving agent announces Drain (with the drain barrier), finishes what it was sent, then closes
 *       with 1000. Every
 *       agent serves the requests it gets with 200 and a 100-byte body, like the upstream.
 * </ul>
 */
public class IdleAgents {

    static final FrameCodec CODEC = new FrameCodec(ProtocolLimits.DEFAULTS);
    static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    static final byte[] BODY = "x".repeat(99).concat("\n").getBytes(StandardCharsets.US_ASCII);

    static String uri;
    static String token;
    static HttpClient.WebsocketSender client;

    static final AtomicInteger accepted = new AtomicInteger();
    static final AtomicInteger rejected = new AtomicInteger();
    static final AtomicInteger failed = new AtomicInteger();
    static final AtomicInteger left = new AtomicInteger();
    static final AtomicLong served = new AtomicLong();
    static final AtomicLong resets = new AtomicLong();

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        String mode = opt.getOrDefault("mode", "idle");
        uri = require(opt, "uri");
        token = require(opt, "token");
        int count = Integer.parseInt(opt.getOrDefault("count", "1000"));
        String hostFormat = opt.getOrDefault("host-format", "idle-%d.bench.local");
        int timeout = Integer.parseInt(opt.getOrDefault("timeout", "120"));
        int concurrency = Integer.parseInt(opt.getOrDefault("connect-concurrency", "256"));
        Path result = Path.of(opt.getOrDefault("result", "idle-agents.json"));

        client = HttpClient.create(ConnectionProvider.newConnection())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
                .websocket(WebsocketClientSpec.builder()
                        .maxFramePayloadLength(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES + 64 * 1024)
                        .handlePing(false)
                        .build());

        if (mode.equals("idle")) {
            idle(count, hostFormat, timeout, concurrency, opt.get("stop-file"), result);
        } else if (mode.equals("churn")) {
            churn(count, hostFormat, Integer.parseInt(opt.getOrDefault("duration", "10")),
                    Long.parseLong(opt.getOrDefault("period-ms", "250")), timeout, opt.get("ready-file"),
                    opt.get("stop-file"), result);
        } else {
            throw new IllegalArgumentException("mode: " + mode + " (expected: idle or churn)");
        }
        System.exit(0);
    }

    static void idle(int count, String hostFormat, int timeout, int concurrency, String stopFile, Path result)
            throws Exception {
        List<SimAgent> agents = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            agents.add(new SimAgent(i, String.format(hostFormat, i), false));
        }
        long start = System.nanoTime();
        long cpuStart = processCpuNanos();
        String error = null;
        try {
            Flux.fromIterable(agents)
                    .flatMap(a -> Mono.fromFuture(a.start()).onErrorReturn(false), concurrency)
                    .then()
                    .block(Duration.ofSeconds(timeout));
        } catch (RuntimeException e) {
            error = "not all agents registered within " + timeout + " s: " + e.getMessage();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
        System.out.printf("registered %d of %d agents in %.2f s (rejected %d, failed %d); simulator CPU %.2f s%n",
                accepted.get(), count, seconds, rejected.get(), failed.get(), cpuSeconds);
        write(result, "{\"mode\":\"idle\",\"agents\":" + count + ",\"registered\":" + accepted.get()
                + ",\"rejected\":" + rejected.get() + ",\"failed\":" + failed.get()
                + ",\"register_all_s\":" + String.format("%.3f", seconds)
                + ",\"sim_cpu_s\":" + String.format("%.3f", cpuSeconds)
                + ",\"error\":" + (error == null ? "null" : quote(error)) + "}");
        if (stopFile != null) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
            while (!Files.exists(Path.of(stopFile)) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        }
        for (SimAgent a : agents) {
            a.close();
        }
        // exiting before the close handshakes finish would reset the rest (logged by the ingress);
        // close() itself gives up on a peer after 5 s
        try {
            CompletableFuture.allOf(agents.stream().map(a -> a.closed).toArray(CompletableFuture[]::new))
                    .get(15, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            System.err.println("some tunnels were still closing after 15 s");
        }
    }

    static void churn(int count, String host, int durationSeconds, long periodMillis, int timeout, String readyFile,
            String stopFile, Path result) throws Exception {
        ArrayDeque<SimAgent> live = new ArrayDeque<>();
        int next = 0;
        String error = null;
        for (; next < count; next++) {
            SimAgent a = new SimAgent(next, host, true);
            live.add(a);
            a.start();
        }
        try {
            for (SimAgent a : live) {
                a.accepted.get(timeout, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            error = "first agents not registered: " + e;
        }
        if (readyFile != null) {
            write(Path.of(readyFile), "{\"registered\":" + accepted.get() + "}");
        }
        int joined = count;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(durationSeconds);
        List<CompletableFuture<Void>> leaving = new ArrayList<>();
        while (error == null && System.nanoTime() < end) {
            Thread.sleep(Math.max(1, Math.min(periodMillis, (end - System.nanoTime()) / 1_000_000)));
            if (System.nanoTime() >= end || (stopFile != null && Files.exists(Path.of(stopFile)))) {
                break;
            }
            SimAgent fresh = new SimAgent(next++, host, true);
            fresh.start();
            joined++;
            // the newcomer is registered before the oldest leaves: the route never has no agent
            try {
                fresh.accepted.get(timeout, TimeUnit.SECONDS);
            } catch (Exception e) {
                error = "agent " + fresh.index + " not registered: " + e;
            }
            live.add(fresh);
            SimAgent oldest = live.poll();
            leaving.add(oldest.leave());
        }
        for (CompletableFuture<Void> f : leaving) {
            try {
                f.get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                error = "an agent did not leave cleanly: " + e;
            }
        }
        for (SimAgent a : live) {
            a.leave().get(30, TimeUnit.SECONDS);
        }
        System.out.printf("churn: joined %d, left %d, failed %d, served %d streams, %d resets%n",
                joined, left.get(), failed.get(), served.get(), resets.get());
        write(result, "{\"mode\":\"churn\",\"joined\":" + joined + ",\"left\":" + left.get() + ",\"failed\":"
                + failed.get() + ",\"rejected\":" + rejected.get() + ",\"served\":" + served.get()
                + ",\"resets\":" + resets.get() + ",\"error\":" + (error == null ? "null" : quote(error)) + "}");
    }

    /** The simulator's session limits: the agent's defaults. */
    static final SessionLimits LIMITS = new SessionLimits(3, 128L * 1024 * 1024, Duration.ofSeconds(5));

    /**
     * One simulated agent: one WebSocket, one route, on shared-protocol's session core in the
     * acceptor role (as the real agent), so heartbeats, the drain barrier and the close sequence are
     * the real ones.
     */
    static final class SimAgent implements ConnectionSide {
        final int index;
        final String host;
        final boolean serve;
        final CompletableFuture<Boolean> accepted = new CompletableFuture<>();
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        volatile TunnelConnection tunnel;
        volatile Disposable connection;
        volatile boolean leaving;

        SimAgent(int index, String host, boolean serve) {
            this.index = index;
            this.host = host;
            this.serve = serve;
        }

        CompletableFuture<Boolean> start() {
            connection = client.uri(uri)
                    .handle((in, outbound) -> {
                        AtomicReference<Connection> socket = new AtomicReference<>();
                        in.withConnection(socket::set);
                        TunnelConnection t = new TunnelConnection(Role.ACCEPTOR, "bench-agent-" + index, CODEC, ALLOC,
                                socket.get().channel().eventLoop(), LIMITS, this, () -> socket.get().dispose());
                        tunnel = t;
                        Mono<ByteBuf> hello = Mono.fromSupplier(() -> CODEC.encode(new Frame.Hello(ProtocolVersion.MIN,
                                ProtocolVersion.MAX, "bench-agent-" + index, token, "", List.of(RouteClaim.host(host)),
                                Map.of("agent.version", "bench")), ALLOC));
                        Mono<Void> sending = outbound.sendObject(Flux.concat(hello, t.frames().frames())
                                        .map(BinaryWebSocketFrame::new))
                                .then()
                                .then(Mono.defer(() -> outbound.sendClose(t.closeCode().code(), t.closeReason())))
                                .onErrorResume(e -> Mono.empty());
                        Mono<Void> receiving = in.aggregateFrames(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES + 64 * 1024)
                                .receiveFrames()
                                .doOnNext(t::receive)
                                .count()
                                .then()
                                .onErrorResume(e -> Mono.empty())
                                .doFinally(signal -> t.disconnected());
                        return Mono.when(sending, receiving);
                    })
                    .then()
                    .doFinally(signal -> {
                        if (!accepted.isDone()) {
                            failed.incrementAndGet();
                            accepted.complete(false);
                        }
                        closed.complete(null);
                    })
                    .subscribe(v -> {}, e -> {});
            return accepted;
        }

        @Override
        public void onHandshake(Frame frame) {
            if (frame instanceof Frame.Accept accept) {
                int chunk = Math.min(64 * 1024, accept.maxFramePayload() - FrameCodec.HEADER_BYTES);
                tunnel.open(Duration.ofMillis(accept.heartbeatIntervalMillis()),
                        new StreamSettings(accept.initialStreamWindow(), chunk, WindowGrowth.NONE, new LongAdder()),
                        accept.maxConcurrentStreams());
                IdleAgents.accepted.incrementAndGet();
                this.accepted.complete(true);
            } else if (frame instanceof Frame.Reject reject) {
                rejected.incrementAndGet();
                if (rejected.get() <= 3) {
                    System.err.println("agent " + index + " rejected: " + reject.reason() + " " + reject.message());
                }
                this.accepted.complete(false);
                tunnel.close(CloseCode.NORMAL, "rejected");
            } else if (frame instanceof Frame.Data data) {
                data.content().release();
            }
        }

        @Override
        public void onRequest(TunnelStream stream, Frame.Request request) {
            if (!serve) {
                stream.reset(ResetCode.REFUSED_STREAM, "idle simulator");
                return;
            }
            stream.accept(end -> {
                if (end instanceof StreamEnd.PeerReset) {
                    resets.incrementAndGet();
                }
                stream.releaseBodies();
            });
            if (stream.inbound() == null) {
                respond(stream);
            } else {
                // read (and so credit) the whole request body, then answer
                Flux.from(stream.inbound()).doOnNext(ByteBuf::release).then()
                        .subscribe(null, e -> {}, () -> respond(stream));
            }
        }

        void respond(TunnelStream stream) {
            int id = stream.id();
            stream.sendHeaders(new Frame.Response(id, 200, List.of(new Header("content-type", "application/octet-stream"),
                    new Header("content-length", String.valueOf(BODY.length))), false));
            stream.sink().send(new Frame.Data(id, Unpooled.wrappedBuffer(BODY), true));
            if (stream.complete()) {
                served.incrementAndGet();
            }
        }

        @Override
        public void onStreamsIdle() {
            close(); // drained: the ingress confirmed our Drain and every stream it sent us finished
        }

        /** Drain, let what was already sent to us finish, close with 1000. */
        CompletableFuture<Void> leave() {
            if (leaving) {
                return closed;
            }
            leaving = true;
            TunnelConnection t = tunnel;
            if (t == null) {
                close();
            } else {
                t.drain("bench agent leaving");
                // a peer that never confirms the drain does not keep us
                CompletableFuture.delayedExecutor(10, TimeUnit.SECONDS).execute(this::close);
            }
            return closed.thenRun(left::incrementAndGet);
        }

        void close() {
            TunnelConnection t = tunnel;
            if (t != null) {
                t.close(CloseCode.NORMAL, "agent leaving"); // the close backstop drops a peer that never answers
            } else {
                Disposable c = connection;
                if (c != null) {
                    c.dispose();
                }
            }
        }
    }

    /** CPU time of this whole JVM (all threads: event loops, JIT, GC). */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("argument: " + args[i] + " (expected: --name value pairs)");
            }
            opt.put(args[i].substring(2), args[++i]);
        }
        return opt;
    }

    static String require(Map<String, String> opt, String name) {
        String v = opt.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
    }

    static void write(Path path, String json) throws java.io.IOException {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Files.writeString(tmp, json + "\n");
        Files.move(tmp, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
