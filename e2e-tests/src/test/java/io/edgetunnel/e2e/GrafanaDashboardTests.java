package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The sample dashboard ({@code deploy/grafana/edge-tunnel-dashboard.json}) queries only series of the
 * catalogue ({@code docs/metrics.md}, itself checked against real scrapes by
 * {@link PrometheusCatalogueIntegrationTests}) and groups only by their documented labels.
 */
class GrafanaDashboardTests {

    private static final Path DASHBOARD = Path.of("../deploy/grafana/edge-tunnel-dashboard.json");
    private static final Pattern SERIES = Pattern.compile("\\btunnel_[a-z0-9_]+");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");
    private static final Pattern MATCHER = Pattern.compile("([a-z_]+)\\s*(?:=~|!~|!=|=)\\s*\"");
    /** Labels every series has or Prometheus adds. */
    private static final Set<String> COMMON = Set.of("le", "instance", "job", "application");

    private static List<String> queries(JsonNode node, List<String> into) {
        if (node.isString()) {
            into.add(node.asString());
        } else {
            node.forEach(child -> queries(child, into));
        }
        return into;
    }

    @Test
    void everyQueriedSeriesIsInTheCatalogueWithItsLabels() throws IOException {
        JsonNode dashboard = JsonMapper.builder().build().readTree(DASHBOARD.toFile());
        assertThat(dashboard.get("panels").size()).isGreaterThan(5);
        Map<String, List<String>> labels = PrometheusCatalogueIntegrationTests.catalogue().stream()
                .flatMap(row -> row.series().stream().map(series -> Map.entry(series, row.labels())))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));

        Set<String> used = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String query : queries(dashboard, new ArrayList<>())) {
            Set<String> allowed = new TreeSet<>(COMMON);
            Matcher series = SERIES.matcher(query);
            while (series.find()) {
                used.add(series.group());
                if (!labels.containsKey(series.group())) {
                    problems.add(series.group() + " is not in docs/metrics.md");
                } else {
                    allowed.addAll(labels.get(series.group()));
                }
            }
            if (!query.contains("tunnel_")) {
                continue;
            }
            Set<String> referenced = new TreeSet<>();
            Matcher grouping = GROUPING.matcher(query);
            while (grouping.find()) {
                for (String label : grouping.group(1).split(",")) {
                    referenced.add(label.trim());
                }
            }
            Matcher matcher = MATCHER.matcher(query);
            while (matcher.find()) {
                referenced.add(matcher.group(1));
            }
            referenced.remove("");
            referenced.removeAll(allowed);
            if (!referenced.isEmpty()) {
                problems.add(query + " uses undocumented labels " + referenced);
            }
        }
        assertThat(problems).isEmpty();
        assertThat(used).contains(
                "tunnel_ingress_requests_seconds_count",
                "tunnel_ingress_requests_seconds_bucket",
                "tunnel_ingress_agents_connected",
                "tunnel_ingress_tunnels_connected",
                "tunnel_ingress_streams_active",
                "tunnel_ingress_buffered_bytes",
                "tunnel_ingress_registrations_total",
                "tunnel_agent_reconnects_total");
    }
}
