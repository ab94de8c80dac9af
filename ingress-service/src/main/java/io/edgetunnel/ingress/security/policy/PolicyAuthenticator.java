package io.edgetunnel.ingress.security.policy;

import io.edgetunnel.ingress.security.AgentAuthenticator;
import io.edgetunnel.ingress.security.AuthResult;
import io.edgetunnel.ingress.security.HelloSource;
import io.edgetunnel.ingress.security.iam.CallerIdentityVerifier;
import io.edgetunnel.ingress.security.iam.IdentityRejection;
import io.edgetunnel.ingress.security.secrets.RotatingTokenVerifier;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.ToIntFunction;
import reactor.core.publisher.Mono;

/**
 * The hello gate: who the agent is ({@code ingress.auth.mode}), whether policy lets that identity
 * claim those hosts, and the limits. In order:
 *
 * <ol>
 *   <li>a source with too many recent failures is refused outright: {@code RATE_LIMITED};
 *   <li>hello size: {@code INVALID_HELLO};
 *   <li>token ({@code BAD_CREDENTIALS}) and/or IAM proof ({@code IDENTITY_UNVERIFIED});
 *   <li>host policy: {@code HOST_NOT_ALLOWED};
 *   <li>open tunnels of that identity: {@code TOO_MANY_TUNNELS}.
 * </ol>
 *
 * Every failure but {@code RATE_LIMITED} and {@code TOO_MANY_TUNNELS} counts against the source,
 * and it counts when the hello arrives, before any verification: hellos sent side by side cannot all
 * pass the back-off check while their verifications are still running. A success withdraws it.
 * The identity is {@code token:NAME} for a token, the role ARN when IAM is part of the mode.
 * Rejection messages go to the agent and the log; they never quote a credential.
 */
public final class PolicyAuthenticator implements AgentAuthenticator {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PolicyAuthenticator.class);

    /** Principal prefix for token identities. */
    public static final String TOKEN_PREFIX = "token:";

    private final AuthMode mode;
    private final RotatingTokenVerifier tokens;
    private final CallerIdentityVerifier iam;
    private final HostPolicy policy;
    private final HostPolicyProperties limits;
    private final FailedHelloLimiter limiter;
    private final ToIntFunction<String> openTunnels;
    private final TrustedProxies proxies;

    /**
     * @param tokens required unless mode is {@code iam}
     * @param iam required unless mode is {@code token}
     * @param openTunnels registered tunnels of an identity right now
     */
    public PolicyAuthenticator(AuthMode mode, RotatingTokenVerifier tokens, CallerIdentityVerifier iam, HostPolicy policy,
            HostPolicyProperties limits, FailedHelloLimiter limiter, ToIntFunction<String> openTunnels) {
        this(mode, tokens, iam, policy, limits, limiter, openTunnels, TrustedProxies.none());
    }

    /** @param proxies peers whose {@code X-Forwarded-For} names the source */
    public PolicyAuthenticator(AuthMode mode, RotatingTokenVerifier tokens, CallerIdentityVerifier iam, HostPolicy policy,
            HostPolicyProperties limits, FailedHelloLimiter limiter, ToIntFunction<String> openTunnels,
            TrustedProxies proxies) {
        this.proxies = Objects.requireNonNull(proxies, "proxies");
        this.mode = Objects.requireNonNull(mode, "mode");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.limiter = Objects.requireNonNull(limiter, "limiter");
        this.openTunnels = Objects.requireNonNull(openTunnels, "openTunnels");
        if (mode.needsToken() && tokens == null) {
            throw new IllegalArgumentException("mode " + mode + " needs a token verifier");
        }
        if (mode.needsIam() && iam == null) {
            throw new IllegalArgumentException("mode " + mode + " needs an IAM verifier");
        }
        this.tokens = tokens;
        this.iam = iam;
    }

    public AuthMode mode() {
        return mode;
    }

    @Override
    public Mono<AuthResult> authenticate(Frame.Hello hello) {
        return authenticate(hello, (String) null);
    }

    /**
     * @param from the peer and its {@code X-Forwarded-For}; the failed-hello back-off is keyed by the
     *     client address (see {@link TrustedProxies}). Null: no back-off
     */
    @Override
    public Mono<AuthResult> authenticate(Frame.Hello hello, HelloSource from) {
        return authenticate(hello, proxies.sourceOf(from), from == null ? "" : from.nonce());
    }

    @Override
    public void failedBeforeVerification(HelloSource from) {
        limiter.failed(proxies.sourceOf(from));
    }

    /** @param source the address the back-off is keyed by; null: no back-off */
    Mono<AuthResult> authenticate(Frame.Hello hello, String source) {
        return authenticate(hello, source, "");
    }

    /** @param nonce the connection's handshake nonce, which an IAM proof must sign */
    Mono<AuthResult> authenticate(Frame.Hello hello, String source, String nonce) {
        Optional<Duration> blocked = limiter.blocked(source);
        if (blocked.isPresent()) {
            return Mono.just(new AuthResult.Rejected(RejectReason.RATE_LIMITED, "too many failed hellos from this "
                    + "source; retry in " + Math.max(1, (blocked.get().toMillis() + 999) / 1000) + "s"));
        }
        // counted now, withdrawn on success: see the class comment
        limiter.failed(source);
        int size = helloBytes(hello);
        if (size > limits.maxHelloBytes()) {
            return failed(source, RejectReason.INVALID_HELLO, "hello is " + size + " bytes (expected: <= "
                    + limits.maxHelloBytes() + ", ingress.policy.max-hello-bytes)");
        }
        return identify(hello, nonce)
                .flatMap(verified -> {
                    Optional<String> denial = policy.check(verified.policyIdentity(), hello.routes())
                            .or(() -> verified.ungranted(hello.routes()));
                    if (denial.isPresent()) {
                        return failed(source, RejectReason.HOST_NOT_ALLOWED, denial.get());
                    }
                    int open = openTunnels.applyAsInt(verified.principal());
                    if (open >= limits.maxTunnelsPerIdentity()) {
                        limiter.succeeded(source); // the identity held: not a failure of this source
                        return Mono.<AuthResult>just(new AuthResult.Rejected(RejectReason.TOO_MANY_TUNNELS,
                                "identity has " + open + " tunnels (expected: < " + limits.maxTunnelsPerIdentity()
                                        + ", ingress.policy.max-tunnels-per-identity)"));
                    }
                    limiter.succeeded(source);
                    return Mono.<AuthResult>just(new AuthResult.Authenticated(verified.principal(), mode.label()));
                })
                .onErrorResume(IdentityRejection.class, e -> failed(source, e.reason(), e.getMessage()))
                // anything else is a bug or an outage: refuse, without echoing what the agent sent
                .onErrorResume(e -> !(e instanceof IdentityRejection), e -> {
                    log.warn("Hello of agent '{}' could not be verified: {}", hello.agentId(), e.getClass().getName());
                    return failed(source, RejectReason.IDENTITY_UNVERIFIED,
                            "identity could not be verified (" + e.getClass().getSimpleName() + ")");
                });
    }

    /** The verified identity, or an {@link IdentityRejection}. */
    private Mono<VerifiedAgent> identify(Frame.Hello hello, String nonce) {
        Mono<VerifiedAgent> tokenIdentity = mode.needsToken()
                ? tokens.verify(hello.token()).flatMap(match -> match
                        .map(m -> Mono.just(VerifiedAgent.of(TOKEN_PREFIX + m.name())))
                        .orElseGet(() -> Mono.error(new IdentityRejection(RejectReason.BAD_CREDENTIALS,
                                "token not accepted"))))
                : Mono.just(VerifiedAgent.of(""));
        if (!mode.needsIam()) {
            return tokenIdentity;
        }
        return tokenIdentity.then(iam.verify(hello.identityProof(), nonce).map(VerifiedAgent::of));
    }

    /** A rejection; the failure was counted when the hello arrived. */
    private Mono<AuthResult> failed(String source, RejectReason reason, String message) {
        return Mono.just(new AuthResult.Rejected(reason, message));
    }

    /** {@code 192.0.2.1:5000} → {@code 192.0.2.1}; {@code [2001:db8::1]:5000} or {@code 2001:db8:0:0:0:0:0:1:5000} → the address. */
    static String sourceOf(String remoteAddress) {
        if (remoteAddress == null || remoteAddress.isEmpty()) {
            return null;
        }
        if (remoteAddress.startsWith("[")) {
            int end = remoteAddress.indexOf(']');
            return end > 0 ? remoteAddress.substring(1, end) : remoteAddress;
        }
        int colon = remoteAddress.lastIndexOf(':');
        return colon > 0 ? remoteAddress.substring(0, colon) : remoteAddress;
    }

    static int helloBytes(Frame.Hello hello) {
        int size = utf8(hello.agentId()) + utf8(hello.token()) + utf8(hello.identityProof());
        for (RouteClaim route : hello.routes()) {
            size += utf8(route.host()) + utf8(route.pathPrefix());
        }
        for (Map.Entry<String, String> attribute : hello.attributes().entrySet()) {
            size += utf8(attribute.getKey()) + utf8(attribute.getValue());
        }
        return size;
    }

    private static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
