package io.edgetunnel.ingress.cluster;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * What both ends of a peer link use, chosen by the dialling replica and sent in the upgrade's request
 * target, which the {@link HopSignature} covers: the holder takes them as an agent takes an Accept's, so
 * a rolling deploy that changes the tunnel settings never leaves the two ends with different windows.
 *
 * @param window initial stream window, both directions (protocol section 8)
 * @param maxFrameBytes the largest frame either end sends or accepts, header included
 * @param maxStreams streams open on the link at once
 * @param heartbeat the PING interval of both ends
 */
record LinkSettings(int window, int maxFrameBytes, int maxStreams, Duration heartbeat) {

    /** The link's path on the cluster port; the query carries the settings. */
    static final String PATH = "/_edgetunnel/link";

    /**
     * Stands in for the Host in the link's signature: a link serves every host, and the replica it is
     * dialled to is signed instead, so a signature opens a link to that replica only.
     */
    static String signedHost(String holderReplicaId) {
        return "peer-link " + holderReplicaId;
    }

    /** Bounds a signed but careless (or compromised) sender cannot push the holder past. */
    static final int MAX_WINDOW = 64 * 1024 * 1024;
    static final int MAX_STREAMS = 65_535;
    static final Duration MAX_HEARTBEAT = Duration.ofMinutes(5);

    LinkSettings {
        if (window < 1024 || window > MAX_WINDOW) {
            throw new IllegalArgumentException("window: " + window + " (expected: 1024.." + MAX_WINDOW + ")");
        }
        if (maxFrameBytes < 4096 || maxFrameBytes > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("frame: " + maxFrameBytes + " (expected: 4096..16777216)");
        }
        if (maxStreams < 1 || maxStreams > MAX_STREAMS) {
            throw new IllegalArgumentException("streams: " + maxStreams + " (expected: 1.." + MAX_STREAMS + ")");
        }
        if (heartbeat == null || heartbeat.toMillis() < 100 || heartbeat.compareTo(MAX_HEARTBEAT) > 0) {
            throw new IllegalArgumentException("heartbeat: " + heartbeat + " (expected: 100 ms..5 min)");
        }
    }

    /** The upgrade's request target. */
    String target() {
        return PATH + "?window=" + window + "&frame=" + maxFrameBytes + "&streams=" + maxStreams + "&heartbeat="
                + heartbeat.toMillis();
    }

    /**
     * The settings a request target carries.
     *
     * @throws IllegalArgumentException when the path is not the link's, or a setting is missing or out of range
     */
    static LinkSettings parse(String target) {
        int query = target.indexOf('?');
        if (query < 0 || !target.substring(0, query).equals(PATH)) {
            throw new IllegalArgumentException("target: " + target + " (expected: " + PATH + "?window=..)");
        }
        Map<String, String> values = new HashMap<>();
        for (String pair : target.substring(query + 1).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                values.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return new LinkSettings(number(values, "window"), number(values, "frame"), number(values, "streams"),
                Duration.ofMillis(number(values, "heartbeat")));
    }

    private static int number(Map<String, String> values, String name) {
        String value = values.get(name);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: an integer)");
        }
    }
}
