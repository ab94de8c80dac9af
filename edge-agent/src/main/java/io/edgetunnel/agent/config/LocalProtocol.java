package io.edgetunnel.agent.config;

/** How the agent speaks to a route's local app. */
public enum LocalProtocol {
    /** HTTP/1.1 over pooled keep-alive connections; the default. */
    HTTP1,
    /**
     * HTTP/2 cleartext with prior knowledge (no upgrade round trip): what gRPC servers speak. Many
     * requests share one connection as streams; response trailers (gRPC's status) are relayed.
     */
    H2C
}
