package io.edgetunnel.ingress.proxy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Mono;

/** RFC 9457 problem bodies for the answers the ingress gives itself. */
final class ProblemResponses {

    private ProblemResponses() {}

    static Mono<Void> write(ServerHttpResponse response, ProxyException problem, Duration retryAfter) {
        return write(response, problem, retryAfter, null, null);
    }

    /** With one extra header ({@code name} null for none). */
    static Mono<Void> write(ServerHttpResponse response, ProxyException problem, Duration retryAfter, String name,
            String value) {
        if (response.isCommitted()) {
            return Mono.error(problem);
        }
        response.setStatusCode(HttpStatusCode.valueOf(problem.status()));
        HttpHeaders headers = response.getHeaders();
        headers.clear();
        headers.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (name != null) {
            headers.set(name, value);
        }
        if (problem.status() == 503) {
            headers.set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, retryAfter.toSeconds())));
        }
        byte[] json = ("{\"title\":\"" + escape(problem.title()) + "\",\"status\":" + problem.status()
                + ",\"detail\":\"" + escape(problem.getMessage()) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        headers.setContentLength(json.length);
        return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(json)));
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
