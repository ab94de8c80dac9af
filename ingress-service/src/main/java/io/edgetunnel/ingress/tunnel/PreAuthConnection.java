package io.edgetunnel.ingress.tunnel;

import io.edgetunnel.ingress.security.AgentAuthenticator;
import io.edgetunnel.ingress.security.AuthResult;
import io.edgetunnel.ingress.security.HelloSource;
import io.edgetunnel.ingress.security.VerificationPool;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.RejectReason;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/**
 * One tunnel connection until it authenticates: where it came from, its place among the
 * unauthenticated connections ({@link PreAuthSlots}), the smaller message limit that applies until
 * then, the verification of its hello (a place in the {@link VerificationPool}, a deadline), and
 * its failure, counted once against its source whether it sent a bad hello, broke the protocol or
 * sent nothing in time.
 */
final class PreAuthConnection {

    private final HelloSource source;
    private final PreAuthSlots.Slot slot;
    private final AgentAuthenticator authenticator;
    private final VerificationPool pool;
    private final Duration deadline;
    private final int messageLimit;
    /** The failure was counted, or the hello went to the authenticator, which counts it itself. */
    private final AtomicBoolean settled = new AtomicBoolean();
    private volatile boolean authenticated;

    /**
     * @param slot null when no slot applies (tests)
     * @param messageLimit largest WebSocket message before authentication: the hello limit
     */
    PreAuthConnection(HelloSource source, PreAuthSlots.Slot slot, AgentAuthenticator authenticator,
            VerificationPool pool, Duration deadline, int messageLimit) {
        this.source = source;
        this.slot = slot;
        this.authenticator = authenticator;
        this.pool = pool;
        this.deadline = deadline;
        this.messageLimit = messageLimit;
    }

    HelloSource source() {
        return source;
    }

    /** Before authentication a message may be no larger than a hello may be. */
    void checkSize(int bytes) {
        if (!authenticated && bytes > messageLimit) {
            throw new ProtocolException(CloseCode.FRAME_TOO_LARGE, "message of " + bytes
                    + " bytes before authentication (expected: <= " + messageLimit + ", the hello limit)");
        }
    }

    /**
     * Verifies the hello within the deadline, on a place in the verification pool; when every place
     * is taken the hello is refused at once rather than queued.
     */
    Mono<AuthResult> verify(Frame.Hello hello) {
        if (!settled.compareAndSet(false, true)) {
            return Mono.just(new AuthResult.Rejected(RejectReason.INVALID_HELLO, "hello after a failure"));
        }
        if (!pool.tryAcquire()) {
            return Mono.just(new AuthResult.Rejected(RejectReason.RATE_LIMITED, pool.maxInFlight()
                    + " hellos are being verified already (ingress.tunnel.pre-auth.max-verifying); retry later"));
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                pool.release();
            }
        };
        return authenticator.authenticate(hello, source)
                .timeout(deadline, Mono.fromSupplier(() -> new AuthResult.Rejected(RejectReason.IDENTITY_UNVERIFIED,
                        "hello not verified within " + deadline + " (ingress.tunnel.pre-auth.auth-timeout)")))
                .doFinally(signal -> release.run());
    }

    /** The connection failed before its hello reached verification: counts against its source once. */
    void failed() {
        if (!authenticated && settled.compareAndSet(false, true)) {
            authenticator.failedBeforeVerification(source);
        }
    }

    void authenticated() {
        authenticated = true;
        release();
    }

    /** The connection ended; its slot is free again. */
    void release() {
        if (slot != null) {
            slot.release();
        }
    }
}
