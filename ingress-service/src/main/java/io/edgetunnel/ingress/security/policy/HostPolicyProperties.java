package io.edgetunnel.ingress.security.policy;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Which identity may claim which hosts, and the registration limits ({@code ingress.policy.*}).
 *
 * <pre>
 * ingress:
 *   policy:
 *     rules:
 *       - identity: "arn:aws:iam::111122223333:role/shop-edge-*"   # role ARN glob (IAM mode)
 *         hosts: ["shop.example.com", "*.shop.example.com"]
 *       - identity: "token:team-b"                                  # a named token (token mode)
 *         hosts: ["b.example.com"]
 * </pre>
 *
 * @param rules identity pattern → host patterns; see {@link HostPolicy} for how they combine
 * @param ruleList more rules in one line, for an environment variable ({@code
 *     INGRESS_POLICY_RULE_LIST}, what the CloudFormation template sets): {@code
 *     IDENTITY=HOST,HOST;IDENTITY=HOST}, added after {@code rules}
 * @param whenEmpty what an empty rule list means: {@code allow} (any identity, any host), {@code
 *     deny}, or {@code auto}: allow in the {@code local} profile, deny otherwise
 * @param maxTunnelsPerIdentity open tunnels one identity may hold (all its agents together)
 * @param maxHelloBytes a hello's strings (id, token, proof, routes, attributes) in UTF-8 bytes
 * @param failedHellos the per-source back-off after failed hellos
 */
@ConfigurationProperties("ingress.policy")
public record HostPolicyProperties(
        @DefaultValue List<Rule> rules,
        @DefaultValue("") String ruleList,
        @DefaultValue("auto") String whenEmpty,
        @DefaultValue("64") int maxTunnelsPerIdentity,
        @DefaultValue("32768") int maxHelloBytes,
        @DefaultValue FailedHellos failedHellos) {

    public HostPolicyProperties {
        ruleList = ruleList == null ? "" : ruleList.trim();
        java.util.List<Rule> all = new java.util.ArrayList<>(rules == null ? List.of() : rules);
        all.addAll(parseRuleList(ruleList));
        rules = List.copyOf(all);
        whenEmpty = whenEmpty == null ? "auto" : whenEmpty.trim().toLowerCase(Locale.ROOT);
        if (!List.of("allow", "deny", "auto").contains(whenEmpty)) {
            throw new IllegalArgumentException("ingress.policy.when-empty: " + whenEmpty + " (expected: allow, deny or auto)");
        }
        if (maxTunnelsPerIdentity < 1) {
            throw new IllegalArgumentException("ingress.policy.max-tunnels-per-identity: " + maxTunnelsPerIdentity
                    + " (expected: >= 1)");
        }
        if (maxHelloBytes < 1024) {
            throw new IllegalArgumentException("ingress.policy.max-hello-bytes: " + maxHelloBytes + " (expected: >= 1024)");
        }
        failedHellos = failedHellos == null ? FailedHellos.DEFAULTS : failedHellos;
    }

    /** {@code IDENTITY=HOST,HOST;IDENTITY=HOST}: identities hold no {@code =} or {@code ;}, hosts no {@code ,}. */
    static List<Rule> parseRuleList(String ruleList) {
        java.util.List<Rule> parsed = new java.util.ArrayList<>();
        for (String rule : ruleList.split(";")) {
            if (rule.isBlank()) {
                continue;
            }
            int equals = rule.lastIndexOf('=');
            if (equals <= 0 || rule.substring(equals + 1).isBlank()) {
                throw new IllegalArgumentException("ingress.policy.rule-list: '" + rule.strip() + "' (expected: "
                        + "IDENTITY=HOST[,HOST...], rules separated by ';')");
            }
            parsed.add(new Rule(rule.substring(0, equals), List.of(rule.substring(equals + 1).split(","))));
        }
        return parsed;
    }

    /**
     * @param identity role ARN glob ({@code *} any characters, {@code ?} one) or {@code token:NAME}
     * @param hosts exact hosts, {@code *.suffix} (any host below suffix), or {@code *} (any host), each
     *     optionally with a path prefix ({@code app.example.com/admin}): the most specific entry
     *     covering a claim decides who may make it
     */
    public record Rule(String identity, List<String> hosts) {

        /** Host part lower-cased, path kept as written, without a trailing slash. */
        private static String normalize(String entry) {
            String trimmed = entry.trim();
            String host = HostPolicy.hostOf(trimmed).toLowerCase(Locale.ROOT);
            String path = HostPolicy.pathOf(trimmed);
            if (path.length() > 1 && path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            return path.equals("/") ? host : host + path;
        }

        public Rule {
            if (identity == null || identity.isBlank()) {
                throw new IllegalArgumentException("ingress.policy.rules[].identity: empty (expected: a role ARN glob "
                        + "or token:NAME)");
            }
            identity = identity.trim();
            hosts = hosts == null ? List.of() : hosts.stream().map(Rule::normalize).toList();
            for (String entry : hosts) {
                String host = HostPolicy.hostOf(entry);
                String path = HostPolicy.pathOf(entry);
                if (host.isEmpty() || (host.contains("*") && !host.equals("*")
                        && !(host.startsWith("*.") && host.indexOf('*', 1) < 0 && host.length() > 2))
                        || path.contains("*") || path.contains("//")) {
                    throw new IllegalArgumentException("ingress.policy.rules[" + identity + "].hosts: " + entry
                            + " (expected: host, *.suffix or *) with an optional /path prefix");
                }
            }
        }
    }

    /**
     * @param freeFailures failures from one source before any back-off
     * @param initialDelay the first back-off; it doubles with each further failure
     * @param maxDelay back-off cap
     * @param forgetAfter a source with no failure for this long starts afresh
     * @param maxSources sources tracked at once (the oldest are forgotten first)
     */
    public record FailedHellos(
            @DefaultValue("3") int freeFailures,
            @DefaultValue("1s") Duration initialDelay,
            @DefaultValue("5m") Duration maxDelay,
            @DefaultValue("15m") Duration forgetAfter,
            @DefaultValue("10000") int maxSources) {

        static final FailedHellos DEFAULTS =
                new FailedHellos(3, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(15), 10_000);

        public FailedHellos {
            initialDelay = initialDelay == null ? Duration.ofSeconds(1) : initialDelay;
            maxDelay = maxDelay == null ? Duration.ofMinutes(5) : maxDelay;
            forgetAfter = forgetAfter == null ? Duration.ofMinutes(15) : forgetAfter;
            if (freeFailures < 0 || maxSources < 1 || maxDelay.compareTo(initialDelay) < 0) {
                throw new IllegalArgumentException("ingress.policy.failed-hellos: free-failures >= 0, max-sources >= 1, "
                        + "max-delay >= initial-delay expected");
            }
        }
    }
}
