package io.edgetunnel.testsupport;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Netty leak-detector factory that records every leak report, so tests can fail on them. Installed
 * by {@link LeakDetectionSessionListener} before any Netty buffer class initialises its detector.
 */
public final class LeakRecorder extends ResourceLeakDetectorFactory {

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    public static synchronized void install() {
        if (!installed) {
            // a leak report's access trail (Netty keeps 4 records by default); the build's argLine sets
            // the same, this covers a run from an IDE. Read once, as ResourceLeakDetector initialises.
            if (System.getProperty("io.netty.leakDetection.targetRecords") == null) {
                System.setProperty("io.netty.leakDetection.targetRecords", "32");
            }
            // PARANOID unless a run chose otherwise (bulk transfers use ADVANCED: see e2e-tests/pom.xml)
            if (System.getProperty("io.netty.leakDetection.level") == null) {
                ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
            }
            ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new LeakRecorder());
            installed = true;
        }
    }

    public static boolean isInstalled() {
        return installed;
    }

    public static List<String> leaks() {
        return List.copyOf(LEAKS);
    }

    public static void clear() {
        LEAKS.clear();
    }

    /** The leaks reported so far, which are then forgotten: each is reported once. */
    public static synchronized List<String> drain() {
        List<String> reported = List.copyOf(LEAKS);
        LEAKS.removeAll(reported);
        return reported;
    }

    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
        return new RecordingDetector<>(resource, samplingInterval);
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.add("LEAK: " + resourceType + records);
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            LEAKS.add("LEAK (untraced): " + resourceType);
            super.reportUntracedLeak(resourceType);
        }
    }
}
