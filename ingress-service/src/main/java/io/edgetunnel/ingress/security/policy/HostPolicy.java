package io.edgetunnel.ingress.security.policy;

import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which identity may claim which hosts. Rules are static, so the answer never depends on who
 * registered first: an identity cannot take over a host the policy gives another, whatever the
 * timing.
 *
 * <p>For a claimed host, the <em>most specific</em> pattern covering it decides (exact, then the
 * longest {@code *.suffix}, then {@code *}), the same order routing uses; the claim is allowed when
 * the claiming identity matches a rule holding that pattern. A wildcard claim ({@code *.s}) is also
 * refused when another identity owns any host below {@code s}: otherwise the wildcard would serve
 * that host whenever its owner is not connected.
 */
public final class HostPolicy {

    private record CompiledRule(String identity, Pattern identityPattern, List<String> hosts) {
        boolean matches(String principal) {
            return identityPattern.matcher(principal).matches();
        }
    }

    private final List<CompiledRule> rules;
    private final boolean allowAll;

    private HostPolicy(List<CompiledRule> rules, boolean allowAll) {
        this.rules = List.copyOf(rules);
        this.allowAll = allowAll;
    }

    /** Any identity may claim any host (the local profile's default). */
    public static HostPolicy allowAll() {
        return new HostPolicy(List.of(), true);
    }

    public static HostPolicy of(List<HostPolicyProperties.Rule> rules) {
        List<CompiledRule> compiled = new ArrayList<>();
        for (HostPolicyProperties.Rule rule : rules) {
            compiled.add(new CompiledRule(rule.identity(), glob(rule.identity()), rule.hosts()));
        }
        return new HostPolicy(compiled, false);
    }

    public boolean isAllowAll() {
        return allowAll;
    }

    /** Empty when every claim is allowed; otherwise why the first refused claim is refused. */
    public Optional<String> check(String principal, List<RouteClaim> claims) {
        if (allowAll) {
            return Optional.empty();
        }
        for (RouteClaim claim : claims) {
            Optional<String> denial = check(principal, claim);
            if (denial.isPresent()) {
                return denial;
            }
        }
        return Optional.empty();
    }

    private Optional<String> check(String principal, RouteClaim claim) {
        String host = claim.host();
        String best = null;
        int bestRank = -1;
        for (CompiledRule rule : rules) {
            for (String entry : rule.hosts()) {
                if (covers(entry, claim) && rank(entry) > bestRank) {
                    best = entry;
                    bestRank = rank(entry);
                }
            }
        }
        if (best == null) {
            return Optional.of("host " + host + " is in no policy rule (expected: a host ingress.policy.rules gives "
                    + "this identity)");
        }
        if (!ownedBy(best, principal)) {
            return Optional.of("host " + claim + " is not allowed for this identity (expected: a host "
                    + "ingress.policy.rules gives it; policy gives " + best + " to another identity)");
        }
        // a longer path prefix takes that part of a host's traffic from whoever serves the rest of it:
        // on a host the policy also gives another identity, only a rule naming the path may do that
        if (!claim.pathPrefix().equals("/") && pathOf(best).equals("/") && sharedWithAnother(best, principal)) {
            return Optional.of("path prefix " + claim + " on a host policy also gives another identity (expected: "
                    + "a rule naming " + hostOf(best) + claim.pathPrefix() + " for this identity)");
        }
        if (host.startsWith("*.")) {
            for (CompiledRule rule : rules) {
                if (rule.matches(principal)) {
                    continue;
                }
                for (String pattern : rule.hosts()) {
                    String other = hostOf(pattern);
                    if (!other.equals("*") && !other.equals(host) && covers(host, other)) {
                        return Optional.of("wildcard " + host + " overlaps " + pattern + ", which policy gives "
                                + "another identity (expected: claim the exact hosts instead)");
                    }
                }
            }
        }
        return Optional.empty();
    }

    private boolean ownedBy(String entry, String principal) {
        return rules.stream().anyMatch(rule -> rule.hosts().contains(entry) && rule.matches(principal));
    }

    private boolean sharedWithAnother(String entry, String principal) {
        return rules.stream().anyMatch(rule -> !rule.matches(principal) && rule.hosts().contains(entry));
    }

    /** Whether policy entry {@code host[/path]} covers the claim: its host pattern and its path prefix. */
    static boolean covers(String entry, RouteClaim claim) {
        if (!covers(hostOf(entry), claim.host())) {
            return false;
        }
        String path = pathOf(entry);
        return path.equals("/") || claim.pathPrefix().equals(path) || claim.pathPrefix().startsWith(path + "/");
    }

    static String hostOf(String entry) {
        int slash = entry.indexOf('/');
        return slash < 0 ? entry : entry.substring(0, slash);
    }

    static String pathOf(String entry) {
        int slash = entry.indexOf('/');
        return slash < 0 ? "/" : entry.substring(slash);
    }

    /** Whether host pattern {@code pattern} covers claimed host {@code host} (exact or {@code *.suffix}). */
    static boolean covers(String pattern, String host) {
        if (pattern.equals("*")) {
            return true;
        }
        if (pattern.startsWith("*.")) {
            String suffix = pattern.substring(1); // ".example.com"
            if (host.startsWith("*.")) {
                String claimed = host.substring(1);
                return claimed.equals(suffix) || claimed.endsWith(suffix);
            }
            return host.endsWith(suffix) && host.length() > suffix.length();
        }
        return pattern.equals(host);
    }

    /**
     * Exact beats any wildcard; longer wildcards beat shorter; {@code *} is last; for the same host
     * pattern, a longer path prefix beats a shorter one.
     */
    static int rank(String entry) {
        String pattern = hostOf(entry);
        int path = pathOf(entry).equals("/") ? 0 : pathOf(entry).length();
        if (pattern.equals("*")) {
            return path;
        }
        if (pattern.startsWith("*.")) {
            return pattern.length() * 4096 + path;
        }
        return Integer.MAX_VALUE / 2 + path;
    }

    /** {@code *} any run of characters, {@code ?} one character; everything else literal. */
    static Pattern glob(String glob) {
        StringBuilder regex = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (char c : glob.toCharArray()) {
            if (c == '*' || c == '?') {
                if (literal.length() > 0) {
                    regex.append(Pattern.quote(literal.toString()));
                    literal.setLength(0);
                }
                regex.append(c == '*' ? ".*" : ".");
            } else {
                literal.append(c);
            }
        }
        if (literal.length() > 0) {
            regex.append(Pattern.quote(literal.toString()));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    @Override
    public String toString() {
        return allowAll ? "HostPolicy[allow all]" : "HostPolicy[" + rules.size() + " rules]";
    }
}
