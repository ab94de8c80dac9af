package io.edgetunnel.ingress.logging;

import io.edgetunnel.ingress.proxy.AccessRecord;
import io.edgetunnel.ingress.tunnel.Ids;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.http.server.HttpServerRequest;

/**
 * Gives every public request one id and logs one access line carrying it: {@code request_id=<id>
 * <METHOD> <host><path> -> <status> <result> in <n> ms bytes_in=<n> bytes_out=<n> agent=<id>
 * outcome=<outcome>}; never bodies, query strings, cookies or other headers. Off with {@code
 * logging.level.io.edgetunnel.ingress.access=OFF}. The id is the client's
 * (or the ALB's) {@code X-Request-Id} when it is a sane token, else a new one written into the
 * request's header block, so the agent and the local app see the same id as the log and the
 * client (it is echoed in the response). The line is INFO, WARN for 5xx and aborted responses, on
 * the logger {@code io.edgetunnel.ingress.access}; the id is also in the MDC as {@code request_id}
 * while the line is written, so the JSON (ECS) log has it as a field.
 *
 * <p>Explicit rather than through Reactor context propagation: the line is written in one place
 * with everything it needs, whatever thread completes the exchange.
 */
@Component
public final class RequestLogFilter implements WebFilter, Ordered, ApplicationListener<WebServerInitializedEvent> {

    public static final String HEADER = "X-Request-Id";
    public static final String MDC_KEY = "request_id";
    /** Exchange attribute holding the id, for anything else that logs about the request. */
    public static final String ATTRIBUTE = RequestLogFilter.class.getName() + ".requestId";

    private static final Logger log = LoggerFactory.getLogger("io.edgetunnel.ingress.access");
    private static final String NAME = RequestLogFilter.class.getName();
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:@/+=-]{1,128}");

    private volatile int managementPort = -1;

    @Override
    public void onApplicationEvent(WebServerInitializedEvent event) {
        if ("management".equals(event.getApplicationContext().getServerNamespace())) {
            managementPort = event.getWebServer().getPort();
        }
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        InetSocketAddress local = request.getLocalAddress();
        if (managementPort > 0 && local != null && local.getPort() == managementPort) {
            return chain.filter(exchange);
        }
        String id = requestId(request);
        exchange.getAttributes().put(ATTRIBUTE, id);
        exchange.getResponse().beforeCommit(() -> {
            HttpHeaders headers = exchange.getResponse().getHeaders();
            if (!headers.containsHeader(HEADER)) {
                headers.set(HEADER, id);
            }
            return Mono.empty();
        });
        long start = System.nanoTime();
        return chain.filter(exchange).doFinally(signal -> log(exchange, id, signal, start));
    }

    /** The client's id when sane; otherwise a new one, put into the native header block the proxy forwards. */
    private static String requestId(ServerHttpRequest request) {
        String given = request.getHeaders().getFirst(HEADER);
        if (given != null && SANE.matcher(given.trim()).matches()) {
            return given.trim();
        }
        String id = Ids.random();
        Object nativeRequest = null;
        try {
            nativeRequest = ServerHttpRequestDecorator.getNativeRequest(request);
        } catch (IllegalArgumentException e) {
            // not backed by Reactor Netty (mock requests): the id is only logged
        }
        if (nativeRequest instanceof HttpServerRequest netty) {
            netty.requestHeaders().set(HEADER, id);
        }
        return id;
    }

    private static void log(ServerWebExchange exchange, String id, SignalType signal, long start) {
        HttpStatusCode status = exchange.getResponse().getStatusCode();
        boolean aborted = signal != SignalType.ON_COMPLETE;
        boolean serverError = status != null && status.is5xxServerError();
        if (!(aborted || serverError ? log.isWarnEnabled() : log.isInfoEnabled())) {
            return;
        }
        ServerHttpRequest request = exchange.getRequest();
        String host = request.getHeaders().getFirst(HttpHeaders.HOST);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        String result = aborted ? (signal == SignalType.CANCEL ? "cancelled by client" : "aborted") : "completed";
        MDC.put(MDC_KEY, id);
        try {
            AccessRecord access = exchange.getAttribute(AccessRecord.ATTRIBUTE);
            String format = "request_id={} {} {}{} -> {} {} in {} ms bytes_in={} bytes_out={} agent={} outcome={}";
            Object[] args = {id, request.getMethod().name(), host, request.getURI().getRawPath(),
                    status == null ? "-" : status.value(), result, millis,
                    access == null ? 0 : access.requestBytes(), access == null ? 0 : access.responseBytes(),
                    access == null ? "-" : access.agentId(), access == null ? "-" : access.outcome()};
            if (aborted || serverError) {
                log.warn(format, args);
            } else {
                log.info(format, args);
            }
        } finally {
            MDC.remove(MDC_KEY);
        }
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    /**
     * A constant: WebFlux's filter chain names every filter invocation's checkpoint by its {@code
     * toString()}, and {@code Object.toString()} built a new string per request (issue 18: 3 % of the
     * ingress's allocated bytes per small request).
     */
    @Override
    public String toString() {
        return NAME;
    }
}
