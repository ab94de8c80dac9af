package io.edgetunnel.ingress.tunnel;

import java.util.regex.Pattern;

/**
 * What an agent sends that ends up in a log line or the admin listing: its id must have a plain
 * form, and any other free text (a drain reason, a self-check note) is clipped and stripped of
 * control characters, so a peer can neither forge log lines (CR/LF, ANSI escapes) nor flood them.
 */
final class LogText {

    /** Host names and the like: what agent ids are (the agent's default id is its host name). */
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

    static final int MAX_FREE_TEXT = 200;

    private LogText() {}

    /** Null when {@code id} is acceptable, else what was expected. */
    static String agentIdProblem(String id) {
        return AGENT_ID.matcher(id).matches() ? null
                : "agent id: \"" + clip(id, 64) + "\" (expected: 1-128 letters, digits, '.', '_', ':', '@' or '-', "
                        + "starting with a letter or digit)";
    }

    /** Printable ASCII only (others become {@code ?}), at most {@code max} characters (then {@code ...}). */
    static String clip(String text, int max) {
        if (text == null) {
            return "";
        }
        int length = Math.min(text.length(), max);
        StringBuilder out = new StringBuilder(length + 3);
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (text.length() > max) {
            out.append("...");
        }
        return out.toString();
    }

    static String clip(String text) {
        return clip(text, MAX_FREE_TEXT);
    }
}
