package io.edgetunnel.ingress.security.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgetunnel.ingress.security.AuthResult;
import io.edgetunnel.ingress.security.HelloSource;
import io.edgetunnel.ingress.security.iam.CallerIdentityVerifier;
import io.edgetunnel.ingress.security.iam.IamAuthProperties;
import io.edgetunnel.ingress.security.secrets.AcceptedTokens;
import io.edgetunnel.ingress.security.secrets.RotatingTokenVerifier;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

class PolicyAuthenticatorTests {

    private static final HostPolicyProperties LIMITS = new HostPolicyProperties(List.of(), "", "deny", 2, 4096,
            new HostPolicyProperties.FailedHellos(2, Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofMinutes(15),
                    100));

    private final RotatingTokenVerifier tokens = new RotatingTokenVerifier(
            () -> AcceptedTokens.builder().add("team-a", "property", "token-a").add("team-b", "property", "token-b").build(),
            false, Duration.ofMinutes(5), Duration.ofSeconds(30), Clock.systemUTC()).loadNow();
    private final HostPolicy policy = HostPolicy.of(List.of(
            new HostPolicyProperties.Rule("token:team-a", List.of("a.example.com", "shared.example.com")),
            new HostPolicyProperties.Rule("token:team-b", List.of("b.example.com", "*.b.example.com"))));
    private final Map<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final PolicyAuthenticator authenticator = new PolicyAuthenticator(AuthMode.TOKEN, tokens, null, policy, LIMITS,
            new FailedHelloLimiter(LIMITS.failedHellos(), Clock.systemUTC()),
            principal -> open.getOrDefault(principal, new AtomicInteger()).get());

    private static Frame.Hello hello(String token, String... hosts) {
        return new Frame.Hello(1, 1, "agent-1", token, "",
                java.util.Arrays.stream(hosts).map(RouteClaim::host).toList(), Map.of());
    }

    private AuthResult run(Frame.Hello hello, String remoteAddress) {
        return authenticator.authenticate(hello, new HelloSource(remoteAddress, null)).block();
    }

    private static void rejected(AuthResult result, RejectReason reason, String message) {
        assertThat(result).isInstanceOfSatisfying(AuthResult.Rejected.class, r -> {
            assertThat(r.reason()).isEqualTo(reason);
            assertThat(r.message()).contains(message);
        });
    }

    @Test
    void allowedHostsAreAcceptedUnderTheTokenName() {
        assertThat(run(hello("token-a", "a.example.com"), "10.0.0.1")).isEqualTo(new AuthResult.Authenticated("token:team-a", "token"));
        assertThat(run(hello("token-b", "x.b.example.com", "*.b.example.com"), "10.0.0.1"))
                .isEqualTo(new AuthResult.Authenticated("token:team-b", "token"));
    }

    @Test
    void unknownTokenIsBadCredentials() {
        rejected(run(hello("token-c", "a.example.com"), "10.0.0.2"), RejectReason.BAD_CREDENTIALS, "token not accepted");
    }

    @Test
    void hostOfAnotherIdentityIsHostNotAllowed() {
        rejected(run(hello("token-a", "b.example.com"), "10.0.0.3"), RejectReason.HOST_NOT_ALLOWED,
                "host b.example.com is not allowed for this identity");
    }

    @Test
    void twoIdentitiesRacingForOneHostOnlyTheOwnerWinsWhateverTheOrder() throws Exception {
        for (int round = 0; round < 20; round++) {
            CyclicBarrier start = new CyclicBarrier(2);
            List<AuthResult> results = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (String token : List.of("token-b", "token-a")) {
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    results.add(run(hello(token, "shared.example.com"), "10.1.0." + token.length() + ":4000"));
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(results).containsExactlyInAnyOrder(new AuthResult.Authenticated("token:team-a", "token"),
                    new AuthResult.Rejected(RejectReason.HOST_NOT_ALLOWED,
                            "host shared.example.com is not allowed for this identity (expected: a host ingress.policy."
                                    + "rules gives it; policy gives shared.example.com to another identity)"));
        }
        // and registering first does not help either: a later hello of the owner is still accepted
        assertThat(run(hello("token-a", "shared.example.com"), "10.0.0.9")).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void failedHellosFromOneSourceAreRateLimitedWithoutLookingAtCredentials() {
        // the port changes with every connection; the back-off follows the address
        rejected(run(hello("guess-1", "a.example.com"), "203.0.113.7:40001"), RejectReason.BAD_CREDENTIALS, "");
        rejected(run(hello("guess-2", "a.example.com"), "203.0.113.7:40002"), RejectReason.BAD_CREDENTIALS, "");
        rejected(run(hello("guess-3", "a.example.com"), "203.0.113.7:40003"), RejectReason.BAD_CREDENTIALS, "");
        rejected(run(hello("token-a", "a.example.com"), "203.0.113.7:40004"), RejectReason.RATE_LIMITED,
                "too many failed hellos from this source; retry in 30s");
        assertThat(run(hello("token-a", "a.example.com"), "203.0.113.8")).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void sourceIsTheAddressWithoutPort() {
        assertThat(PolicyAuthenticator.sourceOf("192.0.2.1:5000")).isEqualTo("192.0.2.1");
        assertThat(PolicyAuthenticator.sourceOf("[2001:db8::1]:5000")).isEqualTo("2001:db8::1");
        assertThat(PolicyAuthenticator.sourceOf("2001:db8:0:0:0:0:0:1:5000")).isEqualTo("2001:db8:0:0:0:0:0:1");
        assertThat(PolicyAuthenticator.sourceOf(null)).isNull();
    }

    @Test
    void behindATrustedProxyTheForwardedClientIsTheSource() {
        TrustedProxies proxies = TrustedProxies.of(List.of("10.0.0.0/16", "fd00::/8"));
        assertThat(proxies.sourceOf(new HelloSource("10.0.3.4:5000", "198.51.100.1, 203.0.113.9"))).isEqualTo("203.0.113.9");
        assertThat(proxies.sourceOf(new HelloSource("[fd00::1]:5000", "203.0.113.9"))).isEqualTo("203.0.113.9");
        // an untrusted peer cannot pick the address it is counted under
        assertThat(proxies.sourceOf(new HelloSource("192.0.2.7:5000", "203.0.113.9"))).isEqualTo("192.0.2.7");
        // garbage in X-Forwarded-For: the peer, and never a DNS lookup
        assertThat(proxies.sourceOf(new HelloSource("10.0.3.4:5000", "evil.example.com"))).isEqualTo("10.0.3.4");
        assertThat(proxies.sourceOf(new HelloSource("10.0.3.4:5000", null))).isEqualTo("10.0.3.4");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TrustedProxies.of(List.of("10.0.0.0/33")))
                .hasMessageContaining("ingress.proxy.trusted-proxies: 10.0.0.0/33");
    }

    @Test
    void oneStrangerBehindTheAlbDoesNotLockOutAgentsBehindIt() {
        PolicyAuthenticator behindAlb = new PolicyAuthenticator(AuthMode.TOKEN, tokens, null, policy, LIMITS,
                new FailedHelloLimiter(LIMITS.failedHellos(), Clock.systemUTC()), p -> 0,
                TrustedProxies.of(List.of("10.0.0.0/16")));
        for (int i = 0; i < 5; i++) {
            behindAlb.authenticate(hello("guess-" + i, "a.example.com"), new HelloSource("10.0.1.1:4000", "203.0.113.66"))
                    .block();
        }
        rejected(behindAlb.authenticate(hello("token-a", "a.example.com"), new HelloSource("10.0.1.1:4001", "203.0.113.66"))
                .block(), RejectReason.RATE_LIMITED, "");
        assertThat(behindAlb.authenticate(hello("token-a", "a.example.com"), new HelloSource("10.0.1.1:4002", "198.51.100.5"))
                .block()).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void tokenSourceOutageMeansUnknownTokenNotAnError() {
        RotatingTokenVerifier broken = new RotatingTokenVerifier(() -> {
            throw new IllegalStateException("secret-ish detail");
        }, true, Duration.ofMinutes(5), Duration.ZERO, Clock.systemUTC());
        PolicyAuthenticator authenticator = new PolicyAuthenticator(AuthMode.TOKEN, broken, null, HostPolicy.allowAll(),
                LIMITS, new FailedHelloLimiter(LIMITS.failedHellos(), Clock.systemUTC()), p -> 0);
        // refresh failures are absorbed by the verifier: the token is simply unknown
        rejected(authenticator.authenticate(hello("x", "a.example.com"), new HelloSource("10.0.0.9:1", null)).block(),
                RejectReason.BAD_CREDENTIALS, "token not accepted");
    }

    @Test
    void oversizedHelloIsRejected() {
        Frame.Hello big = new Frame.Hello(1, 1, "agent", "token-a", "x".repeat(5000), List.of(RouteClaim.host("a.example.com")),
                Map.of());
        rejected(run(big, "10.0.0.4"), RejectReason.INVALID_HELLO, "(expected: <= 4096, ingress.policy.max-hello-bytes)");
    }

    @Test
    void tunnelsPerIdentityAreLimited() {
        open.put("token:team-a", new AtomicInteger(2));
        rejected(run(hello("token-a", "a.example.com"), "10.0.0.5"), RejectReason.TOO_MANY_TUNNELS,
                "identity has 2 tunnels (expected: < 2");
        assertThat(run(hello("token-b", "b.example.com"), "10.0.0.5")).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void iamModeWithoutAProofIsIdentityUnverified() {
        CallerIdentityVerifier iam = new CallerIdentityVerifier(new IamAuthProperties("ingress.example.com", null, null,
                null, List.of(), List.of(), true), URI.create("https://sts.eu-west-1.amazonaws.com/"), Clock.systemUTC(), Optional.empty());
        PolicyAuthenticator iamOnly = new PolicyAuthenticator(AuthMode.IAM, null, iam, HostPolicy.allowAll(), LIMITS,
                new FailedHelloLimiter(LIMITS.failedHellos(), Clock.systemUTC()), p -> 0);
        rejected(iamOnly.authenticate(hello("token-a", "a.example.com"), new HelloSource("10.0.0.6:1", null)).block(),
                RejectReason.IDENTITY_UNVERIFIED, "no identity proof");
        PolicyAuthenticator both = new PolicyAuthenticator(AuthMode.TOKEN_AND_IAM, tokens, iam, HostPolicy.allowAll(),
                LIMITS, new FailedHelloLimiter(LIMITS.failedHellos(), Clock.systemUTC()), p -> 0);
        rejected(both.authenticate(hello("wrong", "a.example.com"), new HelloSource("10.0.0.6:1", null)).block(), RejectReason.BAD_CREDENTIALS, "");
        rejected(both.authenticate(hello("token-a", "a.example.com"), new HelloSource("10.0.0.7:1", null)).block(),
                RejectReason.IDENTITY_UNVERIFIED, "no identity proof");
    }

    @Test
    void runsFromAnEventLoopLikeThreadWithoutBlocking() {
        // BlockHound is installed for every test: a blocking call on a parallel thread would fail here
        AuthResult result = Flux.just(1).publishOn(Schedulers.parallel())
                .flatMap(i -> authenticator.authenticate(hello("token-a", "a.example.com"), new HelloSource("10.0.0.8:1", null)))
                .blockFirst(java.time.Duration.ofSeconds(30));
        assertThat(result).isInstanceOf(AuthResult.Authenticated.class);
    }
}
