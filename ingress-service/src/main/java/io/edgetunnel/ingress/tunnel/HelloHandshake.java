package io.edgetunnel.ingress.tunnel;

import io.edgetunnel.ingress.config.TunnelProperties;
import io.edgetunnel.ingress.security.AuthResult;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RejectReason;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The checks a hello must pass (protocol section 6: version overlap, agent id, route count, not
 * shutting down), then authentication; ends in {@link TunnelSession#authenticated} or {@link
 * TunnelSession#reject}.
 */
final class HelloHandshake {

    private static final Logger log = LoggerFactory.getLogger(TunnelSession.class);

    private final TunnelSession session;
    private final TunnelProperties properties;
    private final PreAuthConnection preAuth;
    private final BooleanSupplier shuttingDown;

    HelloHandshake(TunnelSession session, TunnelProperties properties, PreAuthConnection preAuth,
            BooleanSupplier shuttingDown) {
        this.session = session;
        this.properties = properties;
        this.preAuth = preAuth;
        this.shuttingDown = shuttingDown;
    }

    void verify(Frame.Hello hello) {
        int version = ProtocolVersion.negotiate(hello.minVersion(), hello.maxVersion());
        if (version < 0) {
            session.reject(RejectReason.UNSUPPORTED_VERSION, "versions " + hello.minVersion() + ".."
                    + hello.maxVersion() + " (expected: overlap with " + ProtocolVersion.MIN + ".."
                    + ProtocolVersion.MAX + ")");
            return;
        }
        String badId = LogText.agentIdProblem(hello.agentId());
        if (badId != null) {
            session.reject(RejectReason.INVALID_HELLO, badId);
            return;
        }
        if (hello.routes().isEmpty()) {
            session.reject(RejectReason.INVALID_HELLO, "routes: none (expected: at least one)");
            return;
        }
        if (hello.routes().size() > properties.maxRoutesPerAgent()) {
            session.reject(RejectReason.TOO_MANY_ROUTES, "routes: " + hello.routes().size() + " (expected: <= "
                    + properties.maxRoutesPerAgent() + ")");
            return;
        }
        if (shuttingDown.getAsBoolean()) {
            session.reject(RejectReason.SHUTTING_DOWN, "ingress is shutting down");
            return;
        }
        preAuth.verify(hello)
                .onErrorResume(e -> {
                    log.error("Tunnel {}: authentication of agent '{}' failed", session.sessionId(), hello.agentId(),
                            e);
                    return Mono.just(new AuthResult.Rejected(RejectReason.IDENTITY_UNVERIFIED,
                            "identity could not be verified"));
                })
                .subscribe(result -> {
                    if (result instanceof AuthResult.Rejected rejected) {
                        session.reject(rejected.reason(), rejected.message());
                    } else {
                        session.authenticated(result, hello, version);
                    }
                });
    }
}
