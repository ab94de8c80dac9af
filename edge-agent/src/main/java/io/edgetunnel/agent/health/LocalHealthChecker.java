package io.edgetunnel.agent.health;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.HealthCheck;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.discovery.DnsTargets;
import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.agent.tcp.LocalTcpConnector;
import io.edgetunnel.agent.tunnel.RouteHealthSource;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.PrematureCloseException;
import reactor.netty.resources.ConnectionProvider;

/**
 * Checks the local app of every route that has a {@code health-check.path} (every TCP route, whose
 * check is a connect): a GET every {@code
 * interval} on a fresh connection that is closed afterwards (a check never holds a pooled
 * connection, nor competes with traffic for one), bounded by {@code timeout}, never blocking. The
 * results drive each route's {@link RouteHealth}; changes are logged (WARN out, INFO back), exported
 * as {@code tunnel.agent.route.healthy} and handed to the listeners, which tell the ingress.
 *
 * <p>Starts before the tunnels (a lower lifecycle phase), so the first checks are under way when the
 * first tunnel is accepted, and stops after them.
 */
public final class LocalHealthChecker implements RouteHealthSource, SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(LocalHealthChecker.class);

    static final String METRIC = "tunnel.agent.route.healthy";

    private final Map<Route, Checked> checked = new HashMap<>();
    private final List<Consumer<RouteHealthChange>> listeners = new CopyOnWriteArrayList<>();
    private final List<Disposable> loops = new ArrayList<>();
    private final LocalTcpConnector tcp;
    private final DnsTargets dns;
    private volatile boolean running;

    public LocalHealthChecker(List<Route> routes, MeterRegistry meters) {
        this(routes, meters, new LocalTcpConnector(Duration.ofSeconds(5), AgentProperties.Dns.DEFAULTS));
    }

    /** @param tcp connects the checks of TCP routes (with the agent's DNS settings) */
    public LocalHealthChecker(List<Route> routes, MeterRegistry meters, LocalTcpConnector tcp) {
        this(routes, meters, tcp, new DnsTargets(AgentProperties.Dns.DEFAULTS));
    }

    /** @param dns looks up the targets of HTTP routes found by DNS */
    public LocalHealthChecker(List<Route> routes, MeterRegistry meters, LocalTcpConnector tcp, DnsTargets dns) {
        Objects.requireNonNull(meters, "meters");
        this.tcp = Objects.requireNonNull(tcp, "tcp");
        this.dns = Objects.requireNonNull(dns, "dns");
        for (Route route : routes) {
            if (route.healthCheck().enabled()) {
                checked.putIfAbsent(route, new Checked(route));
            }
            Gauge.builder(METRIC, () -> isHealthy(route) ? 1 : 0)
                    .description("Local app health of the route: 1 healthy or not checked, 0 unhealthy or not "
                            + "yet checked (out of rotation)")
                    .tag("route", route.claim().toString())
                    .strongReference(true)
                    .register(meters);
        }
    }

    /** Routes without a health check are always healthy; checked ones only once a check passed. */
    @Override
    public boolean isHealthy(Route route) {
        Checked target = checked.get(route);
        return target == null || target.health.isHealthy();
    }

    /** {@code listener} hears every change, on the thread that saw the deciding result. */
    public void addListener(Consumer<RouteHealthChange> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        for (Checked each : checked.values()) {
            HealthCheck check = each.route.healthCheck();
            loops.add(Flux.interval(Duration.ZERO, check.interval())
                    // a check slower than the interval skips ticks instead of queueing them
                    .onBackpressureDrop()
                    .concatMap(tick -> check(each.route), 0)
                    .subscribe(null, e -> log.error("health checks of route {} stopped", each.route.claim(), e)));
        }
        if (!checked.isEmpty()) {
            log.info("health checks started for {} route(s)", checked.size());
        }
    }

    @Override
    public synchronized void stop() {
        running = false;
        loops.forEach(Disposable::dispose);
        loops.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Before the tunnels start, after they stop. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1;
    }

    /** One check of {@code route} now, applied to its state; completes when applied. */
    Mono<Void> check(Route route) {
        Checked target = checked.get(route);
        if (target == null) {
            return Mono.error(new IllegalArgumentException("route " + route.claim() + " has no health check"));
        }
        return probe(target).doOnNext(result -> apply(target, result)).then();
    }

    RouteHealth.Status status(Route route) {
        Checked target = checked.get(route);
        return target == null ? RouteHealth.Status.HEALTHY : target.health.status();
    }

    private Mono<Result> probe(Checked target) {
        HealthCheck check = target.route.healthCheck();
        if (target.route.isTcp()) {
            // a TCP route's check is a connect, closed at once
            return tcp.probe(target.route.localUrl(), check.timeout())
                    .thenReturn(new Result(true, "connected"))
                    .timeout(check.timeout())
                    .onErrorResume(e -> Mono.just(new Result(false, describe(e, check))));
        }
        if (DnsTargets.byDns(target.route.localUrl())) {
            // healthy when any target answers: a request only fails over when all of them refuse
            return dns.tryInOrder(target.route.localUrl(), DnsTargets.callerLoop(),
                            address -> get(target, target.client.remoteAddress(() -> address))
                                    .flatMap(r -> r.passed() ? Mono.just(r) : Mono.error(new Failed(r))),
                            e -> true)
                    .onErrorResume(e -> Mono.just(e instanceof Failed f ? f.result
                            : new Result(false, describe(e, check))));
        }
        return get(target, target.client);
    }

    /** One GET of the health path through {@code client}; its result, never an error. */
    private static Mono<Result> get(Checked target, HttpClient client) {
        HealthCheck check = target.route.healthCheck();
        return client
                .request(HttpMethod.GET)
                .uri(target.path)
                .send((request, out) -> {
                    if (target.host != null) {
                        request.requestHeaders().set(HttpHeaderNames.HOST, target.host);
                    }
                    return out;
                })
                // the body is discarded and, with no pool, the connection closed
                .response()
                .map(response -> {
                    int code = response.status().code();
                    return new Result(code >= 200 && code < 400, "status " + code);
                })
                .timeout(check.timeout())
                .onErrorResume(e -> Mono.just(new Result(false, describe(e, check))))
                .defaultIfEmpty(new Result(false, "no response"));
    }

    private void apply(Checked target, Result result) {
        RouteHealth.Status before = target.health.status();
        RouteHealth.Status after = target.health.onResult(result.passed());
        String claim = target.route.claim().toString();
        if (after == null) {
            if (!result.passed()) {
                log.debug("route {}: health check of {} failed ({} in a row): {}",
                        claim, target.url, target.health.streak(), result.detail());
            }
            return;
        }
        boolean healthy = after == RouteHealth.Status.HEALTHY;
        if (before == RouteHealth.Status.UNCHECKED) {
            if (healthy) {
                log.info("route {} healthy: first health check of {} passed ({})", claim, target.url, result.detail());
            } else {
                log.warn("route {} unhealthy: first health check of {} failed ({}); out of rotation until a check passes",
                        claim, target.url, result.detail());
            }
        } else if (healthy) {
            log.info("route {} healthy again: {} of {} passed ({}); back in rotation",
                    claim, checks(target.health.streak()), target.url, result.detail());
        } else {
            log.warn("route {} unhealthy: {} of {} failed, the last: {}; out of rotation",
                    claim, checks(target.health.streak()), target.url, result.detail());
        }
        RouteHealthChange change = new RouteHealthChange(target.route, healthy, result.detail());
        for (Consumer<RouteHealthChange> listener : listeners) {
            try {
                listener.accept(change);
            } catch (RuntimeException e) {
                // one failing listener must not stop the checks nor the other listeners
                log.error("route {}: a health listener failed", claim, e);
            }
        }
    }

    private static String checks(int count) {
        return count == 1 ? "1 health check" : count + " health checks";
    }

    private static String describe(Throwable error, HealthCheck check) {
        if (error instanceof TimeoutException) {
            return "no response within " + check.timeout();
        }
        if (error instanceof PrematureCloseException) {
            return "connection closed before a response";
        }
        for (Throwable t = error; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return "cannot connect: " + t.getMessage();
            }
        }
        return error.getClass().getSimpleName() + (error.getMessage() == null ? "" : ": " + error.getMessage());
    }

    private record Result(boolean passed, String detail) {}

    /** A target that answered, but not 2xx or 3xx: on to the next one. */
    private static final class Failed extends RuntimeException {
        final transient Result result;

        Failed(Result result) {
            super(result.detail(), null, false, false);
            this.result = result;
        }
    }

    /** A checked route: its state and its own client (the connect timeout is the check's). */
    private static final class Checked {
        final Route route;
        final RouteHealth health;
        final String url;
        final String path;
        /** The Host a tunneled request would carry; null for a wildcard route (the local URL's). */
        final String host;
        final HttpClient client;

        Checked(Route route) {
            HealthCheck check = route.healthCheck();
            this.route = route;
            this.health = new RouteHealth(check);
            // found by DNS: the path only, and the route's URL in logs (the address changes per check)
            String path = LocalAppForwarder.url(route.localUrl(), check.path());
            this.url = DnsTargets.byDns(route.localUrl()) ? route.localUrl() + " " + path : path;
            this.path = path;
            this.host = !route.hostRewrite().isEmpty()
                    ? route.hostRewrite()
                    : (route.claim().isWildcard() ? null : route.host());
            this.client = HttpClient.create(ConnectionProvider.newConnection())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(check.timeout().toMillis(), Integer.MAX_VALUE))
                    .compress(false)
                    .followRedirect(false)
                    .keepAlive(false)
                    .headers(h -> h.set(HttpHeaderNames.USER_AGENT, "edge-agent-health-check"));
        }
    }
}
