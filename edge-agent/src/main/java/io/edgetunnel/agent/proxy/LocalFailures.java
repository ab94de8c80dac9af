package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.protocol.ResetCode;
import java.net.ConnectException;
import java.net.UnknownHostException;
import reactor.netty.http.client.PrematureCloseException;

/** How a local exchange failed, as the reset the ingress is sent: connect failure, mid-response, too large. */
final class LocalFailures {

    private LocalFailures() {}

    static LocalExchangeException tooLarge(Route route) {
        return new LocalExchangeException(ResetCode.BODY_TOO_LARGE,
                "request body over " + route.maxRequestBodyBytes() + " bytes for route " + route.claim(), null);
    }

    static LocalExchangeException classify(Throwable error, boolean headersReceived, Route route) {
        if (headersReceived) {
            return new LocalExchangeException(
                    ResetCode.UPSTREAM_ERROR,
                    "local app " + route.localUrl() + " failed mid-response: " + describe(error),
                    error);
        }
        if (isConnectFailure(error)) {
            return new LocalExchangeException(
                    ResetCode.UPSTREAM_CONNECT_FAILED,
                    "cannot connect to local app " + route.localUrl() + ": " + describe(error),
                    error);
        }
        String what = error instanceof PrematureCloseException
                ? "closed the connection before responding"
                : "failed before responding: " + describe(error);
        return new LocalExchangeException(ResetCode.UPSTREAM_ERROR, "local app " + route.localUrl() + " " + what, error);
    }

    static boolean isConnectFailure(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            // epoll reports a connect that a reset ended as "not yet connected" when it reads first
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof java.nio.channels.NotYetConnectedException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static String describe(Throwable error) {
        return error.getClass().getSimpleName() + (error.getMessage() == null ? "" : " " + error.getMessage());
    }
}
