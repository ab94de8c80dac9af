package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.LocalTcpServer;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.netty.http.client.HttpClient;

/**
 * The metric catalogue of {@code docs/metrics.md} against real scrapes: real traffic (a 200, a 502, a
 * 404 for each of 50 unknown hosts, a rejected agent, a route failing its health check), then {@code /actuator/prometheus} on the
 * ingress's management port and on the agent, where every documented series must be present with
 * its documented labels, and every {@code tunnel_*} series present must be documented.
 */
@ExtendWith(NoLeaks.class)
class PrometheusCatalogueIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Path CATALOGUE = Path.of("../docs/metrics.md");
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+).*$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One row of the catalogue. */
    record Documented(String meter, List<String> series, List<String> labels) {}

    /** One sample line of a scrape. */
    record Sample(String name, Map<String, String> labels, double value) {}

    private static UpstreamApp upstream;
    private static IngressNode ingress;
    private static AgentNode agent;
    private static List<Sample> ingressScrape;
    private static List<Sample> agentScrape;

    @BeforeAll
    static void trafficThenScrape() throws IOException {
        upstream = new UpstreamApp("metrics");
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        ingress = IngressNode.start("ingress.proxy.response-timeout=5s",
                "ingress.tcp.address=127.0.0.1", "ingress.tcp.listeners=metrics-tcp=0");
        tcpTarget = LocalTcpServer.echo();
        Map<String, String> routes = new LinkedHashMap<>();
        routes.put("metrics.example", upstream.url());
        routes.put("broken.example", "http://127.0.0.1:" + closedPort);
        // checked, and failing: its health endpoint is a 404
        routes.put("sick.example", upstream.url());
        agent = AgentNode.start(ingress, "metrics-agent", routes,
                "agent.routes[2].health-check.path=/no-such-path",
                "agent.routes[2].health-check.interval=100ms",
                "agent.tcp-routes=metrics-tcp=127.0.0.1:" + tcpTarget.port() + ";health-check.interval=100ms");
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("metrics.example") >= 1);
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnels().stream()
                .anyMatch(t -> t.unhealthyRoutes().contains(RouteClaim.host("sick.example"))));

        // fresh connections: this class scrapes counters, so a request must not wait on another's
        // keep-alive connection (a stall seen only after other classes ran in this JVM; see the notes)
        assertThat(PublicClient.getOnFreshConnection(ingress, "metrics.example", "/name").status()).isEqualTo(200);
        assertThat(PublicClient.getOnFreshConnection(ingress, "broken.example", "/").status()).isEqualTo(502);
        for (int i = 0; i < 50; i++) {
            assertThat(PublicClient.getOnFreshConnection(ingress, "unknown-" + i + ".example", "/").status())
                    .isEqualTo(404);
        }

        // one TCP connection through a TCP route, once the agent checked its target
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnels().stream()
                .anyMatch(t -> t.unhealthyRoutes().equals(Set.of(RouteClaim.host("sick.example")))));
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(),
                ingress.context().getBean(TcpServers.class).port("metrics-tcp"))) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            socket.getOutputStream().write(new byte[] {1, 2, 3});
            socket.shutdownOutput();
            assertThat(socket.getInputStream().readAllBytes()).containsExactly(1, 2, 3);
        }
        await().atMost(TIMEOUT).until(() -> ingress.gauge("tunnel.ingress.tcp.connections.active") == 0.0);

        // A repeated command-line key joins its values, so this agent's token is wrong: one reject.
        try (AgentNode rejected = AgentNode.start(ingress, "rejected-agent",
                AgentNode.route("rejected.example", upstream.url()), "agent.token=not-the-token")) {
            await().atMost(TIMEOUT).until(() -> scrape(rejected.managementPort()).stream()
                    .anyMatch(s -> s.name().equals("tunnel_agent_registrations_rejected_total")));
            agentRejections = scrape(rejected.managementPort());
        }

        ingressScrape = scrape(ingress.managementPort());
        agentScrape = scrape(agent.managementPort());
    }

    private static List<Sample> agentRejections;
    private static LocalTcpServer tcpTarget;

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {agent, ingress, upstream, tcpTarget}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
    }

    static List<Documented> catalogue() throws IOException {
        List<Documented> rows = new ArrayList<>();
        for (String line : Files.readAllLines(CATALOGUE, StandardCharsets.UTF_8)) {
            if (!line.startsWith("| `tunnel.")) {
                continue;
            }
            String[] cells = line.split("\\|");
            rows.add(new Documented(code(cells[1]).get(0), code(cells[2]), code(cells[4])));
        }
        assertThat(rows).as("rows of " + CATALOGUE).hasSizeGreaterThan(10);
        return rows;
    }

    private static List<String> code(String cell) {
        List<String> values = new ArrayList<>();
        Matcher matcher = Pattern.compile("`([^`]+)`").matcher(cell);
        while (matcher.find()) {
            values.add(matcher.group(1));
        }
        return values;
    }

    static List<Sample> scrape(int port) {
        String text = HttpClient.create()
                .get()
                .uri("http://127.0.0.1:" + port + "/actuator/prometheus")
                .responseSingle((response, body) -> {
                    assertThat(response.status().code()).isEqualTo(200);
                    return body.asString(StandardCharsets.UTF_8);
                })
                .block(TIMEOUT);
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher matcher = SAMPLE.matcher(line);
            if (line.startsWith("#") || !matcher.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (matcher.group(3) != null) {
                Matcher label = LABEL.matcher(matcher.group(3));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            samples.add(new Sample(matcher.group(1), labels, Double.parseDouble(matcher.group(4))));
        }
        return samples;
    }

    private static List<Sample> scrapeOf(String series) {
        return series.startsWith("tunnel_ingress_") ? ingressScrape : agentScrape;
    }

    private static List<Sample> named(List<Sample> scrape, String name) {
        return scrape.stream().filter(s -> s.name().equals(name)).toList();
    }

    @Test
    void everyDocumentedSeriesIsScrapedWithItsLabels() throws IOException {
        for (Documented row : catalogue()) {
            for (String series : row.series()) {
                List<Sample> scrape = series.equals("tunnel_agent_registrations_rejected_total")
                        ? agentRejections : scrapeOf(series);
                List<Sample> samples = named(scrape, series);
                assertThat(samples).as("%s (%s) in the scrape", series, row.meter()).isNotEmpty();
                for (Sample sample : samples) {
                    assertThat(sample.labels()).as("labels of %s", series).containsKey("application");
                    assertThat(sample.labels().keySet()).as("labels of %s", series).containsAll(row.labels());
                }
            }
        }
    }

    @Test
    void everyTunnelSeriesScrapedIsDocumented() throws IOException {
        Set<String> documented = catalogue().stream().flatMap(row -> row.series().stream()).collect(Collectors.toSet());
        Set<String> scraped = new TreeSet<>();
        for (List<Sample> scrape : List.of(ingressScrape, agentScrape, agentRejections)) {
            scrape.stream().map(Sample::name).filter(name -> name.startsWith("tunnel_")).forEach(scraped::add);
        }
        assertThat(documented).as("series in " + CATALOGUE).containsAll(scraped);
    }

    @Test
    void requestsAreCountedByStatusClassAndOutcome() {
        List<Sample> counts = named(ingressScrape, "tunnel_ingress_requests_seconds_count");
        assertThat(counts).anySatisfy(s -> assertThat(s.labels())
                .containsEntry("route", "metrics.example").containsEntry("status_class", "2xx").containsEntry("outcome", "ok"));
        assertThat(counts).anySatisfy(s -> assertThat(s.labels())
                .containsEntry("status_class", "5xx").containsEntry("outcome", "agent_error"));
        assertThat(counts).anySatisfy(s -> {
            assertThat(s.labels()).containsEntry("route", "unmatched").containsEntry("status_class", "4xx")
                    .containsEntry("outcome", "no_route");
            assertThat(s.value()).isEqualTo(50.0);
        });
        assertThat(named(agentScrape, "tunnel_agent_local_requests_seconds_count")).anySatisfy(s -> assertThat(s.labels())
                .containsEntry("status_class", "2xx").containsEntry("outcome", "success"));
        assertThat(named(agentScrape, "tunnel_agent_local_requests_seconds_count")).anySatisfy(s -> assertThat(s.labels())
                .containsEntry("outcome", "connect_failed"));
    }

    @Test
    void fiftyUnknownHostsShareOneRouteLabel() {
        Set<String> routes = new TreeSet<>();
        for (Sample sample : ingressScrape) {
            if (sample.name().startsWith("tunnel_ingress_requests_seconds")) {
                routes.add(sample.labels().get("route"));
            }
        }
        assertThat(routes).containsExactlyInAnyOrder("metrics.example", "broken.example", "unmatched");
    }

    @Test
    void registrationsAreCountedByResultAndReason() {
        List<Sample> registrations = named(ingressScrape, "tunnel_ingress_registrations_total");
        assertThat(registrations).anySatisfy(s -> {
            assertThat(s.labels()).containsEntry("result", "accepted").containsEntry("reason", "none");
            assertThat(s.value()).isGreaterThanOrEqualTo(1.0);
        });
        assertThat(registrations).anySatisfy(s -> {
            assertThat(s.labels()).containsEntry("result", "rejected").containsEntry("reason", "BAD_CREDENTIALS");
            assertThat(s.value()).isGreaterThanOrEqualTo(1.0);
        });
        assertThat(named(agentRejections, "tunnel_agent_registrations_rejected_total"))
                .anySatisfy(s -> assertThat(s.labels()).containsEntry("reason", "BAD_CREDENTIALS"));
        assertThat(named(ingressScrape, "tunnel_ingress_agents_connected")).singleElement()
                .satisfies(s -> assertThat(s.value()).isEqualTo(1.0));
        assertThat(named(agentScrape, "tunnel_agent_tunnels_connected")).singleElement()
                .satisfies(s -> assertThat(s.value()).isGreaterThanOrEqualTo(1.0));
    }

    @Test
    void routeHealthIsOneForHealthyOrUncheckedRoutesAndZeroForAFailingOne() {
        Map<String, Double> byRoute = new LinkedHashMap<>();
        for (Sample sample : named(agentScrape, "tunnel_agent_route_healthy")) {
            byRoute.put(sample.labels().get("route"), sample.value());
        }
        assertThat(byRoute).containsExactlyInAnyOrderEntriesOf(Map.of(
                "metrics.example", 1.0, "broken.example", 1.0, "sick.example", 0.0, "metrics-tcp._tcp", 1.0));
    }
}
