package io.edgetunnel.testsupport;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Every thread's stack, for a test that gave up waiting: a hang on a CI machine leaves nothing else
 * to go by, and by the time anyone looks the JVM is gone.
 */
public final class ThreadDump {

    private ThreadDump() {}

    public static String all() {
        return Arrays.stream(ManagementFactory.getThreadMXBean().dumpAllThreads(true, true))
                .map(ThreadDump::describe)
                .collect(Collectors.joining("\n"));
    }

    /** {@link ThreadInfo#toString()} stops after eight frames; a hang needs the whole stack. */
    private static String describe(ThreadInfo info) {
        StringBuilder out = new StringBuilder()
                .append('"').append(info.getThreadName()).append("\" ").append(info.getThreadState());
        if (info.getLockName() != null) {
            out.append(" on ").append(info.getLockName());
        }
        if (info.getLockOwnerName() != null) {
            out.append(" owned by \"").append(info.getLockOwnerName()).append('"');
        }
        out.append('\n');
        for (StackTraceElement frame : info.getStackTrace()) {
            out.append("\tat ").append(frame).append('\n');
        }
        return out.toString();
    }
}
