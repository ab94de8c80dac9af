package io.edgetunnel.agent.proxy;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.discovery.DnsTargets;
import io.edgetunnel.agent.tcp.ReadBuffers;
import io.edgetunnel.protocol.Header;
import io.edgetunnel.protocol.HopByHopHeaders;
import io.edgetunnel.protocol.ResetCode;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.util.retry.Retry;

/**
 * Opens a WebSocket to a route's local app for a tunneled upgrade (spec section 19.1): offers the
 * client's subprotocols, sends the other request headers as {@link LocalAppForwarder} does, and
 * hands the socket to a {@link WebSocketRelay} once the app accepted, or the app's refusal status.
 * Pings are not answered here but relayed, so the far end's pong comes back. Connections are not
 * pooled: a WebSocket owns its connection until it closes.
 */
public final class LocalWebSocketForwarder {

    /** Handshake headers each hop writes itself; the client's values mean nothing to the app. */
    private static final Set<String> HANDSHAKE_HEADERS = Set.of(
            "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions",
            "sec-websocket-accept", "content-length", "expect");

    private final HttpClient client;
    private final Duration responseTimeout;
    private final int maxFramePayload;
    private final DnsTargets dns;

    /** @param dns looks up the targets of routes found by DNS (shared with HTTP and TCP routes) */
    public LocalWebSocketForwarder(AgentProperties.Local local, DnsTargets dns) {
        Objects.requireNonNull(local, "local");
        this.dns = Objects.requireNonNull(dns, "dns");
        this.responseTimeout = local.responseTimeout();
        this.maxFramePayload = (int) local.websocket().maxFrameBytes().toBytes();
        this.client = HttpClient.newConnection()
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) local.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadBuffers.forSockets())
                .followRedirect(false);
    }

    /**
     * Runs the upgrade; completes when the socket is over (or the refusal was relayed) and errors with
     * a {@link LocalExchangeException} when the app could not be reached or failed the handshake.
     */
    public Mono<Void> forward(LocalRequest request, WebSocketRelay relay) {
        return Mono.defer(() -> exchange(request, relay));
    }

    private Mono<Void> exchange(LocalRequest request, WebSocketRelay relay) {
        Route route = request.route();
        String url = LocalAppForwarder.url(route.localUrl(), route.localTarget(request.target()))
                .replaceFirst("^http", "ws");
        Duration timeout = route.responseTimeout() != null ? route.responseTimeout() : responseTimeout;
        List<String> protocols = values(request.headers(), "sec-websocket-protocol");
        WebsocketClientSpec.Builder builder = WebsocketClientSpec.builder()
                .handlePing(true)
                .maxFramePayloadLength(maxFramePayload)
                .compress(offersDeflate(request.headers()));
        if (!protocols.isEmpty()) {
            builder.protocols(String.join(",", protocols));
        }
        WebsocketClientSpec spec = builder.build();
        AtomicBoolean answered = new AtomicBoolean();
        // found by DNS: the URL is a path (ws:// to the chosen address), the next target while one refuses
        Mono<Void> exchange = !DnsTargets.byDns(route.localUrl()) ? upgrade(client, url, spec, request, relay, answered)
                : dns.tryInOrder(route.localUrl(), DnsTargets.callerLoop(),
                        address -> upgrade(client.remoteAddress(() -> address), url, spec, request, relay, answered),
                        e -> !answered.get() && LocalFailures.isConnectFailure(e));
        Mono<Void> handshakeTimer = Mono.delay(timeout)
                .then(Mono.defer(() -> answered.get()
                        ? Mono.<Void>never()
                        : Mono.error(new LocalExchangeException(
                                ResetCode.UPSTREAM_TIMEOUT,
                                "local app " + route.localUrl() + " did not answer the WebSocket upgrade within "
                                        + timeout,
                                null))));
        return Mono.firstWithSignal(exchange, handshakeTimer)
                .onErrorMap(e -> !(e instanceof LocalExchangeException),
                        e -> LocalFailures.classify(e, answered.get(), route));
    }

    private static Mono<Void> upgrade(HttpClient client, String url, WebsocketClientSpec spec, LocalRequest request,
            WebSocketRelay relay, AtomicBoolean answered) {
        Route route = request.route();
        return client.headers(out -> copyHeaders(request.headers(), out, route))
                .websocket(spec)
                .uri(url)
                .handle((in, out) -> {
                    answered.set(true);
                    return relay.accepted(in.selectedSubprotocol(), responseHeaders(in.headers(), route), in, out);
                })
                .then()
                .onErrorResume(WebSocketClientHandshakeException.class, e -> {
                    HttpResponse refusal = e.response();
                    if (refusal == null || refusal.status().code() == 101) {
                        return Mono.error(e);
                    }
                    answered.set(true);
                    relay.refused(refusal.status().code(), responseHeaders(refusal.headers(), route));
                    return Mono.empty();
                })
                // the upgrade is a GET nobody answered yet: one more try on a fresh connection, as Reactor
                // Netty does for idempotent requests whose connection failed (seen: ENOTCONN on loopback)
                .retryWhen(Retry.max(1).filter(e -> !answered.get()
                        && !(e instanceof WebSocketClientHandshakeException)
                        && !(e instanceof LocalExchangeException)));
    }

    private static void copyHeaders(List<Header> headers, HttpHeaders out, Route route) {
        out.clear();
        for (Header header : headers) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (!HopByHopHeaders.isHopByHop(name) && !HANDSHAKE_HEADERS.contains(name)) {
                out.add(header.name(), header.value());
            }
        }
        for (String name : route.removeRequestHeaders()) {
            out.remove(name);
        }
        route.requestHeaders().forEach(out::set);
        if (!route.hostRewrite().isEmpty()) {
            out.set(HttpHeaderNames.HOST, route.hostRewrite());
        }
    }

    /** The app's end-to-end headers; the handshake's own and the dropped body's framing stay behind. */
    private static List<Header> responseHeaders(HttpHeaders headers, Route route) {
        List<Header> out = new ArrayList<>();
        for (Header header : HopByHopHeaders.strip(headers)) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (!HANDSHAKE_HEADERS.contains(name) && !route.removeResponseHeaders().stream().anyMatch(name::equalsIgnoreCase)
                    && route.responseHeaders().keySet().stream().noneMatch(name::equalsIgnoreCase)) {
                out.add(header);
            }
        }
        route.responseHeaders().forEach((name, value) -> out.add(new Header(name, value)));
        return out;
    }

    private static List<String> values(List<Header> headers, String name) {
        List<String> values = new ArrayList<>();
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                for (String token : header.value().split(",")) {
                    if (!token.isBlank()) {
                        values.add(token.trim());
                    }
                }
            }
        }
        return values;
    }

    private static boolean offersDeflate(List<Header> headers) {
        for (String extension : values(headers, "sec-websocket-extensions")) {
            if (extension.toLowerCase(Locale.ROOT).startsWith("permessage-deflate")) {
                return true;
            }
        }
        return false;
    }
}
