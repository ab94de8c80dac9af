package io.edgetunnel.ingress.proxy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;

/**
 * The small HTML page a browser gets instead of a problem body: the status in plain words, what the
 * visitor can do, the request id to quote, and for 503 a polite retry after {@code Retry-After}.
 * Self-contained (no scripts, no external assets), and every piece of request input is escaped:
 * the detail can carry the Host header.
 */
final class ErrorPage {

    /** No scripts, nothing fetched: the page can only style itself. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

    private ErrorPage() {}

    /**
     * Whether {@code accept} prefers HTML to JSON: {@code text/html} (or {@code application/xhtml+xml})
     * listed with a quality no lower than any JSON type listed. A bare wildcard (curl, most clients)
     * keeps the problem body; so does a malformed header.
     */
    static boolean preferred(List<String> accept) {
        double html = 0;
        double json = 0;
        try {
            for (MediaType type : MediaType.parseMediaTypes(accept)) {
                double q = type.getQualityValue();
                String subtype = type.getSubtype();
                if (type.getType().equals("text") && subtype.equals("html")
                        || type.getType().equals("application") && subtype.equals("xhtml+xml")) {
                    html = Math.max(html, q);
                } else if (type.getType().equals("application") && (subtype.equals("json") || subtype.endsWith("+json"))) {
                    json = Math.max(json, q);
                }
            }
        } catch (InvalidMediaTypeException e) {
            return false;
        }
        return html > 0 && html >= json;
    }

    /**
     * @param requestId the id in the access log, or null
     * @param retryAfterSeconds for 503 only; the page reloads itself then when {@code reload} (safe methods)
     */
    static byte[] render(int status, String title, String detail, String requestId, long retryAfterSeconds,
            boolean reload) {
        boolean unavailable = status == 503;
        StringBuilder html = new StringBuilder(1800);
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        if (unavailable && reload) {
            html.append("<meta http-equiv=\"refresh\" content=\"").append(retryAfterSeconds).append("\">\n");
        }
        html.append("<title>").append(status).append(' ').append(escape(headline(status, title))).append("</title>\n")
                .append("<style>body{font:16px/1.5 system-ui,sans-serif;color:#222;background:#f6f6f4;margin:0}")
                .append("main{max-width:34em;margin:12vh auto;padding:2em;background:#fff;border-radius:8px;")
                .append("box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.5em;margin:0 0 .5em}")
                .append(".status{color:#888;font-weight:normal}code{background:#eee;padding:.1em .3em;border-radius:3px}")
                .append("small{color:#666}</style></head>\n<body><main>\n")
                .append("<h1><span class=\"status\">").append(status).append("</span> ")
                .append(escape(headline(status, title))).append("</h1>\n")
                .append("<p id=\"advice\">").append(escape(advice(status, retryAfterSeconds, reload))).append("</p>\n")
                .append("<p><small id=\"detail\">").append(escape(detail)).append("</small></p>\n");
        if (requestId != null && !requestId.isEmpty()) {
            html.append("<p><small>If you contact the site's owner, quote request id <code id=\"request-id\">")
                    .append(escape(requestId)).append("</code>.</small></p>\n");
        }
        html.append("</main></body></html>\n");
        return html.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String headline(int status, String title) {
        return switch (status) {
            case 400 -> "Bad request";
            case 404 -> "Site not found";
            case 413 -> "Upload too large";
            case 502 -> "The site did not answer";
            case 503 -> "Temporarily unavailable";
            case 504 -> "The site took too long to answer";
            default -> title;
        };
    }

    private static String advice(int status, long retryAfterSeconds, boolean reload) {
        return switch (status) {
            case 400 -> "Your browser sent a request this server could not read. Check the address and try again.";
            case 404 -> "No site is served at this address. Check the address for typing mistakes.";
            case 413 -> "What you tried to send is larger than this site accepts.";
            case 502, 504 -> "The site's own server had a problem with this request. Please try again in a moment.";
            case 503 -> "The site is restarting or busy. "
                    + (reload ? "This page will try again by itself in " + retryAfterSeconds + " seconds."
                            : "Please try again in " + retryAfterSeconds + " seconds.");
            default -> "Something went wrong with this request.";
        };
    }

    /** HTML-escapes text for element content and quoted attribute values. */
    static String escape(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c < 0x20 && c != '\t' ? '\uFFFD' : c);
            }
        }
        return out.toString();
    }
}
