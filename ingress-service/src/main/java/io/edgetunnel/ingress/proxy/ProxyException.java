package io.edgetunnel.ingress.proxy;

/**
 * A public request that ends in an error answer: the HTTP status, the metrics outcome, and the
 * problem detail (safe to show the client).
 */
final class ProxyException extends RuntimeException {

    private final int status;
    private final String outcome;
    private final String title;

    ProxyException(int status, String outcome, String title, String detail) {
        super(detail, null, false, false);
        this.status = status;
        this.outcome = outcome;
        this.title = title;
    }

    int status() {
        return status;
    }

    String outcome() {
        return outcome;
    }

    String title() {
        return title;
    }

    static ProxyException badRequest(String detail) {
        return new ProxyException(400, Outcome.BAD_REQUEST, "Bad request", detail);
    }

    static ProxyException noRoute(String host) {
        return new ProxyException(404, Outcome.NO_ROUTE, "No route", "no route for host " + host);
    }

    static ProxyException noAgent(String host) {
        return new ProxyException(503, Outcome.NO_AGENT, "No agent available",
                "no healthy agent for host " + host);
    }

    static ProxyException tooLarge(long limit) {
        return new ProxyException(413, Outcome.TOO_LARGE, "Request body too large",
                "request body over " + limit + " bytes");
    }

    /** The agent refused the body under its route's own limit. */
    static ProxyException tooLargeForRoute() {
        return new ProxyException(413, Outcome.TOO_LARGE, "Request body too large",
                "request body over the route's limit");
    }

    static ProxyException timeout() {
        return new ProxyException(504, Outcome.TIMEOUT, "Gateway timeout", "no response from the agent in time");
    }

    static ProxyException badGateway(String detail) {
        return new ProxyException(502, Outcome.AGENT_ERROR, "Bad gateway", detail);
    }

    /** Outcome tag values of {@code tunnel.ingress.requests}. */
    static final class Outcome {
        static final String OK = "ok";
        static final String NO_ROUTE = "no_route";
        static final String NO_AGENT = "no_agent";
        static final String AGENT_ERROR = "agent_error";
        static final String TIMEOUT = "timeout";
        static final String CLIENT_ABORT = "client_abort";
        static final String TOO_LARGE = "too_large";
        static final String BAD_REQUEST = "bad_request";

        private Outcome() {}
    }
}
