package io.edgetunnel.e2e.support;

final class Query {

    private Query() {}

    static String param(String uri, String name, String fallback) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return fallback;
        }
        for (String pair : uri.substring(q + 1).split("&")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return fallback;
    }
}
