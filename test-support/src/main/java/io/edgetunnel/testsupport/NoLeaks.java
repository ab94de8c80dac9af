package io.edgetunnel.testsupport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector reported any leaked buffer during it. Leaks surface
 * only after GC, when a later allocation polls the detector's reference queue: after each test this
 * only polls (cheap, and it names the test when a leak is already known); after the class it
 * collects garbage first, so every buffer the class dropped is reported before the next class runs.
 *
 * <p>Registered in every test class of every module without being named: it is a JUnit extension
 * service of this jar, and the build turns on extension auto-detection (the root pom's surefire
 * configuration). A reported leak is forgotten once it has failed a test, so one leak fails one
 * test class, not every class after it.
 */
public final class NoLeaks implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        LeakRecorder.install();
        if (!LeakRecorder.isInstalled()) {
            throw new IllegalStateException("Netty leak recording is not installed");
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        pollDetector();
        failOnReportedLeaks();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        assertNoLeaks();
    }

    /** Collects garbage, lets the detector see what was collected, then fails on any leak. */
    public static void assertNoLeaks() {
        for (int round = 0; round < 2; round++) {
            collectGarbage();
            pollDetector();
        }
        failOnReportedLeaks();
    }

    /**
     * One full GC, then waits until the JVM has enqueued the references it cleared (a sentinel of
     * ours is among them), so the detector's queue holds every buffer that GC found unreachable.
     */
    private static void collectGarbage() {
        ReferenceQueue<Object> cleared = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), cleared);
        System.gc();
        try {
            cleared.remove(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sentinel.clear();
    }

    /** The detector reports what GC collected only when it tracks a new buffer: allocate some. */
    private static void pollDetector() {
        for (int i = 0; i < 4; i++) {
            ByteBuf pooled = PooledByteBufAllocator.DEFAULT.buffer(64);
            pooled.release();
            ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.buffer(64);
            unpooled.release();
        }
    }

    private static void failOnReportedLeaks() {
        List<String> leaks = LeakRecorder.drain();
        if (!leaks.isEmpty()) {
            for (String leak : leaks) {
                System.err.println("=== leaked buffer, compact trail (most recent access first) ===\n"
                        + LeakTrail.compact(leak));
            }
            throw new AssertionError("Netty reported " + leaks.size() + " leaked buffer(s), each with its recorded"
                    + " accesses, most recent first:\n\n" + String.join("\n\n", leaks));
        }
    }
}
