package io.edgetunnel.ingress.proxy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The answers the ingress gives itself: RFC 9457 problem bodies, or for a client that prefers HTML
 * (a browser navigating) a small {@link ErrorPage} with the same status and headers.
 */
final class ProblemResponses {

    private static final MediaType HTML = new MediaType("text", "html", StandardCharsets.UTF_8);
    /** Set on the request by the access log filter (the client's id, or the one it made up). */
    private static final String REQUEST_ID = "X-Request-Id";

    private ProblemResponses() {}

    static Mono<Void> write(ServerWebExchange exchange, ProxyException problem, Duration retryAfter) {
        return write(exchange, problem, retryAfter, null, null);
    }

    /** With one extra header ({@code name} null for none). */
    static Mono<Void> write(ServerWebExchange exchange, ProxyException problem, Duration retryAfter, String name,
            String value) {
        ServerHttpResponse response = exchange.getResponse();
        if (response.isCommitted()) {
            return Mono.error(problem);
        }
        response.setStatusCode(HttpStatusCode.valueOf(problem.status()));
        HttpHeaders headers = response.getHeaders();
        headers.clear();
        if (name != null) {
            headers.set(name, value);
        }
        long retrySeconds = Math.max(1, retryAfter.toSeconds());
        if (problem.status() == 503) {
            headers.set(HttpHeaders.RETRY_AFTER, Long.toString(retrySeconds));
        }
        ServerHttpRequest request = exchange.getRequest();
        byte[] body;
        if (ErrorPage.preferred(request.getHeaders().getOrEmpty(HttpHeaders.ACCEPT))) {
            headers.setContentType(HTML);
            headers.setCacheControl("no-store");
            headers.set("Content-Security-Policy", ErrorPage.CONTENT_SECURITY_POLICY);
            headers.set("X-Content-Type-Options", "nosniff");
            HttpMethod method = request.getMethod();
            boolean safe = HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
            body = ErrorPage.render(problem.status(), problem.title(), problem.getMessage(),
                    request.getHeaders().getFirst(REQUEST_ID), retrySeconds, safe);
        } else {
            headers.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
            body = ("{\"title\":\"" + escape(problem.title()) + "\",\"status\":" + problem.status()
                    + ",\"detail\":\"" + escape(problem.getMessage()) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        headers.setContentLength(body.length);
        return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(body)));
    }

    static String escape(String value) {
        StringBuilder out = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
