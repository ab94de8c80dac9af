package io.edgetunnel.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.support.AgentLauncher;
import io.edgetunnel.agent.support.FakeIngress;
import io.edgetunnel.agent.support.LocalApp;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.RouteClaim;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/** The agent against a fake ingress built from the protocol classes, with a real local app. */
class TunnelClientIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final byte[] big = randomBytes(1024 * 1024 + 3);

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private LocalApp localApp(AtomicBoolean foreverClosed) {
        return track(new LocalApp(routes -> routes.get("/hello", (req, res) -> res.header("X-Host", req.requestHeaders().get("Host"))
                        .sendString(Mono.just("hello " + req.uri())))
                .post("/echo", (req, res) -> res.send(req.receive().retain()))
                .get("/big", (req, res) -> res.sendByteArray(Flux.range(0, (big.length + 8191) / 8192)
                        .map(i -> Arrays.copyOfRange(big, i * 8192, Math.min(big.length, (i + 1) * 8192)))))
                .get("/quarter", (req, res) -> res.sendByteArray(Mono.just(Arrays.copyOf(big, big.length / 4))))
                .get("/forever", (req, res) -> {
                    req.withConnection(c -> c.onDispose(() -> foreverClosed.set(true)));
                    return res.sendString(Flux.interval(Duration.ofMillis(5)).onBackpressureDrop().map(i -> "tick " + i + "\n"));
                })));
    }

    private AgentLauncher agent(String ingressUri, String routes, Map<String, String> extra) {
        Map<String, String> properties = AgentLauncher.testProperties(ingressUri, routes, "agent-under-test");
        properties.put("agent.connect-timeout", "5s");
        properties.put("agent.reconnect.min-backoff", "100ms");
        properties.put("agent.reconnect.max-backoff", "400ms");
        properties.put("agent.local.response-timeout", "3s");
        properties.putAll(extra);
        return track(AgentLauncher.start(properties));
    }

    private static int readiness(AgentLauncher agent) {
        return HttpClient.create()
                .get()
                .uri("http://127.0.0.1:" + agent.managementPort() + "/actuator/health/readiness")
                .responseSingle((res, body) -> body.then(Mono.just(res.status().code())))
                .block(WAIT);
    }

    private static String prometheus(AgentLauncher agent) {
        return HttpClient.create()
                .get()
                .uri("http://127.0.0.1:" + agent.managementPort() + "/actuator/prometheus")
                .responseContent()
                .aggregate()
                .asString()
                .block(WAIT);
    }

    @Test
    void helloCarriesTokenAndRoutesAndReadinessWaitsForAccept() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, null));
        AgentLauncher agent = agent(
                ingress.uri(), "demo.localhost=http://127.0.0.1:1,api.example.com/api=http://127.0.0.1:2", Map.of());

        FakeIngress.Tunnel tunnel = ingress.awaitTunnel(WAIT);
        Frame.Hello hello = tunnel.hello();
        assertThat(hello.token()).isEqualTo("t0ken-under-test");
        assertThat(hello.agentId()).isEqualTo("agent-under-test");
        assertThat(hello.routes()).containsExactly(RouteClaim.host("demo.localhost"), new RouteClaim("api.example.com", "/api"));
        assertThat(hello.attributes()).containsKey("agent.version");
        assertThat(hello.identityProof()).isEmpty();
        assertThat(readiness(agent)).isEqualTo(503);

        tunnel.send(FakeIngress.accept(65536, 100, 1000));

        await().atMost(WAIT).until(() -> readiness(agent) == 200);
        assertThat(agent.tunnels().connectedTunnels()).isEqualTo(1);
        assertThat(prometheus(agent)).contains("tunnel_agent_tunnels_connected").doesNotContain("t0ken-under-test");
    }

    @Test
    void proxiesRequestsToTheLocalAppAndStreamsResponsesBack() throws Exception {
        LocalApp app = localApp(new AtomicBoolean());
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(64 * 1024, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);
        MiniIngress mini = new MiniIngress(tunnel, 64 * 1024);

        MiniIngress.Result get = mini.exchange(
                new Frame.Request(1, "GET", "/hello?x=1", "demo.localhost", "/", List.of(new Header("Host", "demo.localhost")), true),
                null);
        assertThat(get.response.status()).isEqualTo(200);
        assertThat(get.header("X-Host")).isEqualTo("demo.localhost");
        assertThat(new String(get.body, StandardCharsets.UTF_8)).isEqualTo("hello /hello?x=1");

        byte[] upload = randomBytes(300 * 1024 + 5);
        MiniIngress.Result post = mini.exchange(
                new Frame.Request(3, "POST", "/echo", "demo.localhost", "/",
                        List.of(new Header("Host", "demo.localhost"), new Header("Content-Length", String.valueOf(upload.length))), false),
                upload);
        assertThat(post.response.status()).isEqualTo(200);
        assertThat(post.body).isEqualTo(upload);
        assertThat(post.maxOutstanding).isLessThanOrEqualTo(64 * 1024);
    }

    @Test
    void neverSendsMoreThanTheGrantedWindow() throws Exception {
        LocalApp app = localApp(new AtomicBoolean());
        int window = 16 * 1024;
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(window, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);
        tunnel.send(new Frame.Request(1, "GET", "/big", "demo.localhost", "/", List.of(), true));
        assertThat(tunnel.next(Frame.Response.class, WAIT).status()).isEqualTo(200);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        // no window update yet: exactly the initial window arrives, then nothing
        while (body.size() < window) {
            Frame.Data data = tunnel.next(Frame.Data.class, WAIT);
            body.writeBytes(ByteBufUtil.getBytes(data.content()));
        }
        assertThat(body.size()).isEqualTo(window);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> tunnel.poll() == null);
        assertThat(agent.tunnels().bufferedBytes()).isZero();
        MiniIngress.Result rest;
        try {
            rest = new MiniIngress(tunnel, window).readResponseBody(1, window);
        } catch (AssertionError e) {
            System.out.println("DEBUG " + DebugDump.dump(agent.tunnels()));
            throw e;
        }
        body.writeBytes(rest.body);
        assertThat(body.toByteArray()).isEqualTo(big);
        assertThat(rest.maxOutstanding).isLessThanOrEqualTo(window);
        await().atMost(WAIT).until(() -> agent.tunnels().activeStreams() == 0);
    }

    @Test
    void concurrentWindowLimitedDownloadsAllComplete() throws Exception {
        LocalApp app = localApp(new AtomicBoolean());
        int window = 16 * 1024;
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(window, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);
        int streams = 4;
        Map<Integer, ByteArrayOutputStream> bodies = new HashMap<>();
        for (int i = 0; i < streams; i++) {
            int id = 2 * i + 1;
            bodies.put(id, new ByteArrayOutputStream());
            tunnel.send(new Frame.Request(id, "GET", "/quarter", "demo.localhost", "/", List.of(), true));
        }
        int open = streams;
        while (open > 0) {
            Frame frame;
            try {
                frame = tunnel.next(WAIT);
            } catch (AssertionError e) {
                System.out.println("DEBUG " + DebugDump.dump(agent.tunnels()));
                throw e;
            }
            if (frame instanceof Frame.Data data) {
                int bytes = data.content().readableBytes();
                bodies.get(data.streamId()).writeBytes(ByteBufUtil.getBytes(data.content()));
                if (data.endStream()) {
                    open--;
                } else if (bytes > 0) {
                    tunnel.send(new Frame.WindowUpdate(data.streamId(), bytes));
                }
            } else if (frame instanceof Frame.Reset reset) {
                throw new AssertionError("unexpected " + reset);
            }
        }
        byte[] quarter = Arrays.copyOf(big, big.length / 4);
        for (ByteArrayOutputStream body : bodies.values()) {
            assertThat(body.toByteArray()).isEqualTo(quarter);
        }
        await().atMost(WAIT).until(() -> agent.tunnels().activeStreams() == 0);
    }

    @Test
    void resetsUnknownRoutesAndUnreachableApps() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=http://127.0.0.1:" + LocalApp.freePort(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);

        tunnel.send(new Frame.Request(1, "GET", "/", "other.example", "/", List.of(), true));
        Frame.Reset noRoute = tunnel.next(Frame.Reset.class, WAIT);
        assertThat(noRoute.streamId()).isEqualTo(1);
        assertThat(noRoute.code()).isEqualTo(ResetCode.NO_ROUTE);

        tunnel.send(new Frame.Request(3, "GET", "/", "demo.localhost", "/", List.of(), true));
        Frame.Reset refused = tunnel.next(Frame.Reset.class, WAIT);
        assertThat(refused.streamId()).isEqualTo(3);
        assertThat(refused.code()).isEqualTo(ResetCode.UPSTREAM_CONNECT_FAILED);
    }

    @Test
    void refusesStreamsBeyondTheAcceptedLimit() throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        LocalApp app = localApp(closed);
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 1, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);

        tunnel.send(new Frame.Request(1, "GET", "/forever", "demo.localhost", "/", List.of(), true));
        assertThat(tunnel.next(Frame.Response.class, WAIT).streamId()).isEqualTo(1);
        tunnel.send(new Frame.Request(3, "GET", "/hello", "demo.localhost", "/", List.of(), true));
        Frame.Reset reset = awaitFrame(tunnel, Frame.Reset.class);
        assertThat(reset.streamId()).isEqualTo(3);
        assertThat(reset.code()).isEqualTo(ResetCode.REFUSED_STREAM);
        tunnel.send(new Frame.Reset(1, ResetCode.CANCEL, "test done"));
        await().atMost(WAIT).untilTrue(closed);
    }

    @Test
    void cancelFromTheIngressClosesTheLocalRequest() throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        LocalApp app = localApp(closed);
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);

        tunnel.send(new Frame.Request(1, "GET", "/forever", "demo.localhost", "/", List.of(), true));
        assertThat(tunnel.next(Frame.Response.class, WAIT).status()).isEqualTo(200);
        tunnel.next(Frame.Data.class, WAIT);
        assertThat(agent.tunnels().activeStreams()).isEqualTo(1);

        tunnel.send(new Frame.Reset(1, ResetCode.CANCEL, "client went away"));

        await().atMost(WAIT).untilTrue(closed);
        await().atMost(WAIT).until(() -> agent.tunnels().activeStreams() == 0);
        // the ingress ended the stream: the agent answers nothing more for it
        for (Frame frame = tunnel.poll(); frame != null; frame = tunnel.poll()) {
            assertThat(frame).isNotInstanceOf(Frame.Reset.class);
        }
    }

    @Test
    void rejectKeepsReadinessDownAndRetriesWithBackoff() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> new Frame.Reject(RejectReason.BAD_CREDENTIALS, "bad token")));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=http://127.0.0.1:1", Map.of());

        await().atMost(WAIT).until(() -> ingress.tunnels().size() >= 3);
        assertThat(readiness(agent)).isEqualTo(503);
        List<FakeIngress.Tunnel> attempts = ingress.tunnels();
        for (int i = 1; i < 3; i++) {
            long gapMillis = (attempts.get(i).helloNanos() - attempts.get(i - 1).helloNanos()) / 1_000_000;
            assertThat(gapMillis).as("gap before attempt " + i).isGreaterThanOrEqualTo(100);
        }
        MeterRegistry meters = agent.context().getBean(MeterRegistry.class);
        assertThat(meters.get("tunnel.agent.registrations.rejected").tag("reason", "BAD_CREDENTIALS").counter().count())
                .isGreaterThanOrEqualTo(2);
        assertThat(meters.get("tunnel.agent.reconnects").counter().count()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void connectsOnceTheIngressComesUp() throws Exception {
        int port = LocalApp.freePort();
        AgentLauncher agent = agent("ws://127.0.0.1:" + port + "/tunnel", "demo.localhost=http://127.0.0.1:1", Map.of());
        MeterRegistry meters = agent.context().getBean(MeterRegistry.class);
        await().atMost(WAIT).until(() -> meters.get("tunnel.agent.reconnects").counter().count() >= 2);
        assertThat(readiness(agent)).isEqualTo(503);

        track(new FakeIngress(port, hello -> FakeIngress.accept(65536, 100, 1000)));

        await().atMost(WAIT).until(() -> readiness(agent) == 200);
    }

    @Test
    void answersPingsAndClosesOnAMalformedFrameThenReconnects() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=http://127.0.0.1:1", Map.of());
        FakeIngress.Tunnel first = registered(ingress, agent);

        first.send(new Frame.Ping(42));
        assertThat(awaitFrame(first, Frame.Pong.class).payload()).isEqualTo(42);

        first.sendRaw(new byte[] {(byte) 0x7f, 0, 0, 0, 0, 0, 1});
        await().atMost(WAIT).until(() -> first.closeStatus() != null);
        assertThat(first.closeStatus()).isEqualTo(4000);

        int before = ingress.tunnels().indexOf(first);
        await().atMost(WAIT).until(() -> ingress.tunnels().size() > before + 1);
        FakeIngress.Tunnel second = ingress.tunnels().get(ingress.tunnels().size() - 1);
        assertThat(second.hello().agentId()).isEqualTo("agent-under-test");
        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 1);
    }

    @Test
    void closesWithFlowControlErrorWhenTheIngressSendsPastTheWindow() throws Exception {
        LocalApp app = localApp(new AtomicBoolean());
        int window = 16 * 1024;
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(window, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);

        tunnel.send(new Frame.Request(1, "POST", "/echo", "demo.localhost", "/", List.of(), false));
        tunnel.send(new Frame.Data(1, Unpooled.wrappedBuffer(new byte[window + 1]), false));

        await().atMost(WAIT).until(() -> tunnel.closeStatus() != null);
        assertThat(tunnel.closeStatus()).isEqualTo(4004);
        await().atMost(WAIT).until(() -> agent.tunnels().activeStreams() == 0 && agent.tunnels().bufferedBytes() == 0);
    }

    @Test
    void closesWithStreamErrorWhenAnOpenStreamIdIsReused() throws Exception {
        LocalApp app = localApp(new AtomicBoolean());
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);

        tunnel.send(new Frame.Request(1, "GET", "/forever", "demo.localhost", "/", List.of(), true));
        assertThat(tunnel.next(Frame.Response.class, WAIT).streamId()).isEqualTo(1);
        tunnel.send(new Frame.Request(1, "GET", "/hello", "demo.localhost", "/", List.of(), true));

        await().atMost(WAIT).until(() -> tunnel.closeStatus() != null);
        assertThat(tunnel.closeStatus()).isEqualTo(4005);
        await().atMost(WAIT).until(() -> agent.tunnels().activeStreams() == 0);
    }

    @Test
    void declaresASilentIngressDeadAndReconnects() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 200)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=http://127.0.0.1:1", Map.of());
        FakeIngress.Tunnel first = registered(ingress, agent);

        first.goSilent();

        await().atMost(WAIT).until(() -> first.closeStatus() != null);
        assertThat(first.closeStatus()).isEqualTo(4002);
        await().atMost(WAIT).until(() -> ingress.tunnels().size() >= 2 && agent.tunnels().connectedTunnels() == 1);
    }

    @Test
    void keepsTheConfiguredNumberOfTunnels() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=http://127.0.0.1:1", Map.of("agent.tunnel-count", "2"));

        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 2);
        ingress.tunnels().get(0).close(1001, "replica going away");

        await().atMost(WAIT).until(() -> ingress.tunnels().size() == 3);
        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 2);
    }

    @Test
    void gracefulStopDrainsThenClosesWithGoingAway() throws Exception {
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=http://127.0.0.1:1", Map.of());
        FakeIngress.Tunnel tunnel = registered(ingress, agent);

        agent.close();

        assertThat(awaitFrame(tunnel, Frame.Drain.class)).isNotNull();
        await().atMost(WAIT).until(() -> tunnel.closeStatus() != null);
        assertThat(tunnel.closeStatus()).isEqualTo(1001);
        assertThat(ingress.tunnels()).hasSize(1);
    }

    @Test
    void ingressDrainOpensAReplacementAndFinishesInFlightStreams() throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        LocalApp app = localApp(closed);
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(65536, 100, 1000)));
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + app.url(), Map.of());
        FakeIngress.Tunnel first = registered(ingress, agent);
        first.send(new Frame.Request(1, "GET", "/forever", "demo.localhost", "/", List.of(), true));
        assertThat(first.next(Frame.Response.class, WAIT).status()).isEqualTo(200);

        first.send(new Frame.Drain("replica shutting down"));

        await().atMost(WAIT).until(() -> ingress.tunnels().size() == 2 && agent.tunnels().connectedTunnels() == 1);
        FakeIngress.Tunnel second = ingress.tunnels().get(1);
        assertThat(first.isClosed()).isFalse();
        assertThat(agent.tunnels().activeStreams()).isEqualTo(1);

        first.send(new Frame.Reset(1, ResetCode.CANCEL, "done"));
        await().atMost(WAIT).until(() -> first.closeStatus() != null);
        assertThat(first.closeStatus()).isEqualTo(1001);
        assertThat(second.isClosed()).isFalse();
        assertThat(ingress.tunnels()).hasSize(2);
    }

    @Test
    void requestBodyBufferedInTheAgentStaysWithinTheWindow() throws Exception {
        int window = 32 * 1024;
        // the app reads nothing for a while, then slowly: the kernel's socket buffers fill, and what the
        // agent holds beyond them is what this test bounds (without the pause, loopback buffers could
        // take a whole upload at once and there would be nothing to see)
        LocalApp slowApp = track(new LocalApp(routes -> routes.post("/slow", (req, res) -> res.sendString(
                Mono.delay(Duration.ofMillis(300)).thenMany(req.receive().retain())
                .concatMap(buf -> Mono.delay(Duration.ofMillis(2)).thenReturn(buf))
                .map(buf -> {
                    int bytes = buf.readableBytes();
                    buf.release();
                    return bytes;
                })
                .reduce(0, Integer::sum)
                .map(String::valueOf)))));
        FakeIngress ingress = track(new FakeIngress(0, hello -> FakeIngress.accept(window, 100, 1000)));
        // no window growth: the agent may hold the initial window and no more, whatever the timing
        AgentLauncher agent = agent(ingress.uri(), "demo.localhost=" + slowApp.url(),
                Map.of("agent.max-stream-window", String.valueOf(window)));
        FakeIngress.Tunnel tunnel = registered(ingress, agent);
        long[] maxBuffered = new long[1];
        reactor.core.Disposable sampler = Flux.interval(Duration.ofMillis(1))
                .subscribe(tick -> maxBuffered[0] = Math.max(maxBuffered[0], agent.tunnels().bufferedBytes()));

        byte[] upload = randomBytes(1024 * 1024);
        MiniIngress.Result result = new MiniIngress(tunnel, window).exchange(
                new Frame.Request(1, "POST", "/slow", "demo.localhost", "/", List.of(), false), upload);
        sampler.dispose();

        assertThat(new String(result.body, StandardCharsets.UTF_8)).isEqualTo(String.valueOf(upload.length));
        assertThat(maxBuffered[0]).isPositive().isLessThanOrEqualTo(window);
        await().atMost(WAIT).until(() -> agent.tunnels().bufferedBytes() == 0);
    }

    /** The tunnel the agent is registered on (a cold first attempt may have timed out and retried). */
    private static FakeIngress.Tunnel registered(FakeIngress ingress, AgentLauncher agent) {
        await().atMost(WAIT).until(() -> agent.tunnels().connectedTunnels() == 1);
        List<FakeIngress.Tunnel> tunnels = ingress.tunnels();
        return tunnels.get(tunnels.size() - 1);
    }

    /** Next frame of a type, skipping pongs and anything else in between. */
    private static <T extends Frame> T awaitFrame(FakeIngress.Tunnel tunnel, Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Frame frame = tunnel.next(WAIT);
            if (type.isInstance(frame)) {
                return type.cast(frame);
            }
        }
        throw new AssertionError("no " + type.getSimpleName());
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    /**
     * The ingress side of one stream, as a real ingress would run it: sends the request body within
     * the agent's window, reads the response granting credit as it goes, and records the most bytes
     * the agent ever had in flight beyond what was granted.
     */
    static final class MiniIngress {
        private final FakeIngress.Tunnel tunnel;
        private final int window;

        MiniIngress(FakeIngress.Tunnel tunnel, int window) {
            this.tunnel = tunnel;
            this.window = window;
        }

        static final class Result {
            Frame.Response response;
            byte[] body;
            long maxOutstanding;

            String header(String name) {
                return response.headers().stream()
                        .filter(h -> h.name().equalsIgnoreCase(name))
                        .map(Header::value)
                        .findFirst()
                        .orElse(null);
            }
        }

        Result exchange(Frame.Request request, byte[] upload) throws InterruptedException {
            int id = request.streamId();
            tunnel.send(request);
            long uploadCredit = window;
            int sent = 0;
            Result result = new Result();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            long granted = window;
            long received = 0;
            boolean uploadDone = upload == null;
            while (true) {
                while (!uploadDone && uploadCredit > 0) {
                    int chunk = (int) Math.min(Math.min(16 * 1024, uploadCredit), upload.length - sent);
                    boolean last = sent + chunk == upload.length;
                    tunnel.send(new Frame.Data(id, Unpooled.wrappedBuffer(upload, sent, chunk), last));
                    sent += chunk;
                    uploadCredit -= chunk;
                    uploadDone = last;
                }
                Frame frame = tunnel.next(WAIT);
                if (frame instanceof Frame.WindowUpdate update && update.streamId() == id) {
                    uploadCredit += update.increment();
                } else if (frame instanceof Frame.Response response && response.streamId() == id) {
                    result.response = response;
                    if (response.endStream()) {
                        break;
                    }
                } else if (frame instanceof Frame.Data data && data.streamId() == id) {
                    int bytes = data.content().readableBytes();
                    body.writeBytes(ByteBufUtil.getBytes(data.content()));
                    received += bytes;
                    result.maxOutstanding = Math.max(result.maxOutstanding, received - (granted - window));
                    if (received > granted) {
                        throw new AssertionError("agent sent " + received + " bytes with " + granted + " granted");
                    }
                    if (data.endStream()) {
                        break;
                    }
                    if (bytes > 0) {
                        tunnel.send(new Frame.WindowUpdate(id, bytes));
                        granted += bytes;
                    }
                } else if (frame instanceof Frame.Reset reset) {
                    throw new AssertionError("stream reset: " + reset);
                }
            }
            result.body = body.toByteArray();
            return result;
        }

        /** Reads the rest of a response whose first {@code alreadyReceived} bytes (the whole window) arrived. */
        Result readResponseBody(int id, int alreadyReceived) throws InterruptedException {
            Result result = new Result();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            long granted = window;
            long received = alreadyReceived;
            tunnel.send(new Frame.WindowUpdate(id, alreadyReceived));
            granted += alreadyReceived;
            while (true) {
                Frame frame = tunnel.next(WAIT);
                if (frame instanceof Frame.Data data && data.streamId() == id) {
                    int bytes = data.content().readableBytes();
                    body.writeBytes(ByteBufUtil.getBytes(data.content()));
                    received += bytes;
                    if (received > granted) {
                        throw new AssertionError("agent sent " + received + " bytes with " + granted + " granted");
                    }
                    result.maxOutstanding = Math.max(result.maxOutstanding, received - (granted - window));
                    if (data.endStream()) {
                        break;
                    }
                    if (bytes > 0) {
                        tunnel.send(new Frame.WindowUpdate(id, bytes));
                        granted += bytes;
                    }
                }
            }
            result.body = body.toByteArray();
            return result;
        }
    }
}
