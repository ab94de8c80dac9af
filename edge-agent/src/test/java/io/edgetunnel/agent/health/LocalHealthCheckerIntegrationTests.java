package io.edgetunnel.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.agent.config.HealthCheck;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.support.LocalApp;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The checker against a real local app on a random port whose health endpoint answers what the test
 * says: the state machine's thresholds (checks run one by one on demand), timeouts, refused
 * connections, and the periodic loop with its listeners and gauge.
 */
class LocalHealthCheckerIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger checks = new AtomicInteger();
    private final AtomicInteger openConnections = new AtomicInteger();
    private final Queue<String> seen = new ConcurrentLinkedQueue<>();
    private final MeterRegistry meters = new SimpleMeterRegistry();
    private DisposableServer app;
    private LocalHealthChecker checker;

    @BeforeEach
    void startApp() {
        app = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .doOnConnection(connection -> {
                    openConnections.incrementAndGet();
                    connection.onDispose(openConnections::decrementAndGet);
                })
                .route(routes -> routes
                        .get("/app/health", (req, res) -> {
                            checks.incrementAndGet();
                            seen.add(req.requestHeaders().get("Host") + " " + req.uri());
                            return res.status(status.get()).sendString(Mono.just("state " + status.get()));
                        })
                        .get("/app/hang", (req, res) -> {
                            checks.incrementAndGet();
                            return Mono.never();
                        }))
                .bindNow();
    }

    @AfterEach
    void stop() {
        if (checker != null) {
            checker.stop();
        }
        app.disposeNow();
    }

    private Route route(String host, String path, int failureThreshold, int successThreshold) {
        return new Route(host, "/", URI.create("http://127.0.0.1:" + app.port() + "/app"),
                new HealthCheck(path, Duration.ofMillis(100), Duration.ofMillis(300), failureThreshold, successThreshold));
    }

    private LocalHealthChecker checker(Route... routes) {
        checker = new LocalHealthChecker(List.of(routes), meters);
        return checker;
    }

    private static void check(LocalHealthChecker checker, Route route, int times) {
        for (int i = 0; i < times; i++) {
            checker.check(route).block(WAIT);
        }
    }

    private double gauge(String route) {
        return meters.get("tunnel.agent.route.healthy").tag("route", route).gauge().value();
    }

    @Test
    void anUncheckedRouteIsOutOfRotationAndOnePassedCheckPutsItIn() {
        Route route = route("app.example", "/health", 3, 2);
        LocalHealthChecker checker = checker(route);
        assertThat(checker.status(route)).isEqualTo(RouteHealth.Status.UNCHECKED);
        assertThat(checker.isHealthy(route)).isFalse();
        assertThat(gauge("app.example")).isZero();

        check(checker, route, 1);

        assertThat(checker.isHealthy(route)).isTrue();
        assertThat(gauge("app.example")).isEqualTo(1.0);
        // the path is resolved under the local URL's path, with the Host a tunneled request carries
        assertThat(seen).containsExactly("app.example /app/health");
    }

    @Test
    void anUncheckedRouteWhoseFirstCheckFailsIsUnhealthyAtOnce() {
        Route route = route("app.example", "/health", 3, 2);
        LocalHealthChecker checker = checker(route);
        List<RouteHealthChange> changes = new CopyOnWriteArrayList<>();
        checker.addListener(changes::add);
        status.set(500);

        check(checker, route, 1);

        assertThat(checker.status(route)).isEqualTo(RouteHealth.Status.UNHEALTHY);
        assertThat(changes).containsExactly(new RouteHealthChange(route, false, "status 500"));
    }

    @Test
    void takesFailureThresholdConsecutiveFailuresToGoUnhealthy() {
        Route route = route("app.example", "/health", 3, 2);
        LocalHealthChecker checker = checker(route);
        List<RouteHealthChange> changes = new CopyOnWriteArrayList<>();
        checker.addListener(changes::add);
        check(checker, route, 1);
        changes.clear();

        status.set(503);
        check(checker, route, 2);
        assertThat(checker.isHealthy(route)).as("after 2 of 3 failures").isTrue();
        status.set(200);
        check(checker, route, 1); // a pass resets the count
        status.set(503);
        check(checker, route, 2);
        assertThat(checker.isHealthy(route)).as("2 failures after a pass").isTrue();
        assertThat(changes).isEmpty();

        check(checker, route, 1);

        assertThat(checker.isHealthy(route)).isFalse();
        assertThat(gauge("app.example")).isZero();
        assertThat(changes).containsExactly(new RouteHealthChange(route, false, "status 503"));
    }

    @Test
    void takesSuccessThresholdConsecutivePassesToRecover() {
        Route route = route("app.example", "/health", 1, 3);
        LocalHealthChecker checker = checker(route);
        status.set(503);
        check(checker, route, 1);
        assertThat(checker.isHealthy(route)).isFalse();
        List<RouteHealthChange> changes = new CopyOnWriteArrayList<>();
        checker.addListener(changes::add);

        status.set(204);
        check(checker, route, 2);
        status.set(404);
        check(checker, route, 1); // a failure resets the count
        status.set(302); // 3xx passes, as a redirect to a login page shows the app is up
        check(checker, route, 2);
        assertThat(checker.isHealthy(route)).as("2 of 3 passes").isFalse();
        assertThat(changes).isEmpty();

        check(checker, route, 1);

        assertThat(checker.isHealthy(route)).isTrue();
        assertThat(gauge("app.example")).isEqualTo(1.0);
        assertThat(changes).containsExactly(new RouteHealthChange(route, true, "status 302"));
    }

    @Test
    void aCheckWithoutAnAnswerFailsAfterTheTimeoutAndClosesItsConnection() {
        Route route = route("app.example", "/hang", 2, 1);
        LocalHealthChecker checker = checker(route);
        List<RouteHealthChange> changes = new CopyOnWriteArrayList<>();
        checker.addListener(changes::add);

        long start = System.nanoTime();
        check(checker, route, 4);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(4 * 300));
        assertThat(checks.get()).isEqualTo(4);
        assertThat(changes).containsExactly(new RouteHealthChange(route, false, "no response within PT0.3S"));
        // a timed-out check closes its connection: none is left open at the app
        await().atMost(WAIT).until(() -> openConnections.get() == 0);
    }

    @Test
    void passedChecksLeaveNoConnectionOpen() {
        Route route = route("app.example", "/health", 3, 2);
        LocalHealthChecker checker = checker(route);

        check(checker, route, 20);

        assertThat(checks.get()).isEqualTo(20);
        await().atMost(WAIT).until(() -> openConnections.get() == 0);
    }

    @Test
    void aRefusedConnectionFailsTheCheck() {
        Route route = new Route("app.example", "/", URI.create("http://127.0.0.1:" + LocalApp.freePort()),
                new HealthCheck("/health", Duration.ofMillis(100), Duration.ofMillis(500), 1, 1));
        LocalHealthChecker checker = checker(route);
        List<RouteHealthChange> changes = new CopyOnWriteArrayList<>();
        checker.addListener(changes::add);

        check(checker, route, 1);

        assertThat(checker.isHealthy(route)).isFalse();
        assertThat(changes).singleElement().satisfies(change -> assertThat(change.reason()).startsWith("cannot connect"));
    }

    @Test
    void periodicChecksFollowTheAppAndTellTheListeners() {
        Route route = route("*.example", "/health", 2, 2);
        Route unchecked = new Route("plain.example", "/", URI.create("http://127.0.0.1:1"));
        LocalHealthChecker checker = checker(route, unchecked);
        List<RouteHealthChange> changes = new CopyOnWriteArrayList<>();
        checker.addListener(change -> {
            throw new IllegalStateException("a broken listener must not stop the checks");
        });
        checker.addListener(changes::add);

        checker.start();
        await().atMost(WAIT).until(() -> checker.isHealthy(route));
        status.set(503);
        await().atMost(WAIT).until(() -> !checker.isHealthy(route));
        status.set(200);
        await().atMost(WAIT).until(() -> checker.isHealthy(route));

        // the state flips before the listeners hear of it (on the checker's thread): wait for them
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(changes).extracting(RouteHealthChange::healthy).containsExactly(true, false, true));
        assertThat(checker.isHealthy(unchecked)).isTrue();
        assertThat(gauge("plain.example")).isEqualTo(1.0);
        assertThat(gauge("*.example")).isEqualTo(1.0);
        // a wildcard route has no host of its own: the check carries the local URL's
        assertThat(seen).allSatisfy(line -> assertThat(line).isEqualTo("127.0.0.1:" + app.port() + " /app/health"));

        checker.stop();
        int after = checks.get();
        // at most the check under way when stopped completes; none follows
        await().during(Duration.ofMillis(400)).atMost(WAIT).until(() -> checks.get() <= after + 1);
        await().atMost(WAIT).until(() -> openConnections.get() == 0);
    }
}
