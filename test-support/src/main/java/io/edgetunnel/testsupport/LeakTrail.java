package io.edgetunnel.testsupport;

import java.util.ArrayList;
import java.util.List;

/**
 * A leak report cut to what finds the leak: each access record's hint and its first frames outside
 * Netty's buffer and pipeline plumbing. A full report runs to hundreds of lines, and CI shows only
 * the last lines of a failed class's output, where this summary is printed.
 */
final class LeakTrail {

    private static final int FRAMES_PER_RECORD = 4;

    private LeakTrail() {}

    static String compact(String report) {
        List<String> out = new ArrayList<>();
        int kept = 0;
        for (String raw : report.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#") || line.startsWith("Created at") || line.startsWith("LEAK")
                    || line.startsWith("Recent access records")) {
                out.add(line);
                kept = 0;
            } else if (line.startsWith("Hint:")) {
                out.add("  " + line);
            } else if (kept < FRAMES_PER_RECORD && !plumbing(line)) {
                out.add("    " + line);
                kept++;
            }
        }
        return String.join("\n", out);
    }

    private static boolean plumbing(String frame) {
        return frame.startsWith("io.netty.buffer.") || frame.startsWith("io.netty.util.")
                || frame.startsWith("io.netty.channel.") || frame.startsWith("java.base/")
                || frame.startsWith("io.netty.handler.codec.ByteToMessageDecoder")
                || frame.startsWith("io.netty.handler.codec.MessageToMessage");
    }
}
