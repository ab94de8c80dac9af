package io.edgetunnel.agent.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ClassPreloaderTests {

    static final AtomicBoolean FIXTURE_INITIALISED = new AtomicBoolean();

    /** Its static initialiser must not run when the preloader loads it. */
    static final class PreloadFixture {
        static {
            FIXTURE_INITIALISED.set(true);
        }
    }

    @Test
    void loadsListedClassesThroughItsLoaderWithoutInitialisingThem() throws Exception {
        RecordingLoader loader = new RecordingLoader(getClass().getClassLoader());
        // a class literal loads the class but does not initialise it
        String fixture = PreloadFixture.class.getName();

        PreloadResult result = new ClassPreloader(loader).preload(list(fixture + "\njava.util.concurrent.Phaser\n"), 0);

        assertThat(result.loaded()).isEqualTo(2);
        assertThat(result.skipped()).isZero();
        assertThat(loader.requested).containsExactly(fixture, "java.util.concurrent.Phaser");
        assertThat(FIXTURE_INITIALISED).isFalse();
    }

    @Test
    void skipsCommentsBlankLinesAndNamesThisClassPathDoesNotHave() throws Exception {
        RecordingLoader loader = new RecordingLoader(getClass().getClassLoader());

        PreloadResult result = new ClassPreloader(loader)
                .preload(list("# generated\n\n  java.lang.String  \nno.such.Clazz\n#java.util.List\n"), 0);

        assertThat(result.loaded()).isEqualTo(1);
        assertThat(result.skipped()).isEqualTo(1);
        assertThat(loader.requested).containsExactly("java.lang.String", "no.such.Clazz");
    }

    @Test
    void aJarWithoutTheListIsReportedAsSuch() {
        // no parent: this loader has no resources, so no list
        PreloadResult result = new ClassPreloader(new ClassLoader(null) {}).preloadListedClasses();

        assertThat(result.outcome()).isEqualTo(PreloadResult.Outcome.NO_LIST);
        assertThat(ClassPreloadReport.describe(result))
                .isEqualTo("Class preloader: no " + ClassPreloader.CLASS_LIST + " in the agent's jar; start is slower");
    }

    @Test
    void aLoaderThatFailsEndsThePreloadNotTheStartAndSaysWhy() {
        ClassLoader broken = new ClassLoader(null) {
            @Override
            public InputStream getResourceAsStream(String name) {
                throw new IllegalStateException("zip file closed");
            }
        };

        PreloadResult result = new ClassPreloader(broken).preloadListedClasses();

        assertThat(result.outcome()).isEqualTo(PreloadResult.Outcome.FAILED);
        assertThat(ClassPreloadReport.describe(result))
                .isEqualTo("Class preloader failed, start is slower: IllegalStateException: zip file closed");
    }

    @Test
    void theReportSaysWhatThePreloaderDid() {
        assertThat(ClassPreloadReport.describe(new PreloadResult(PreloadResult.Outcome.DONE, 5700, 3, 2_500_000_000L, null)))
                .isEqualTo("Class preloader loaded 5700 classes in 2500 ms (3 listed names not on this class path)");
        assertThat(ClassPreloadReport.describe(PreloadResult.running())).isEqualTo("Class preloader still loading classes");
        assertThat(ClassPreloadReport.describe(null)).startsWith("Class preloader off");
    }

    @Test
    void startsOnItsOwnDaemonThreadWithBootsPreinitialiserOffAndLoadsTheShippedList() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() > 1, "the preloader stays off on one CPU");
        String before = System.getProperty(ClassPreloader.BOOT_PREINITIALIZER_SWITCH);
        System.clearProperty(ClassPreloader.BOOT_PREINITIALIZER_SWITCH);
        try {
            Thread thread = ClassPreloader.startInBackground(getClass().getClassLoader());

            assertThat(thread).isNotNull();
            assertThat(thread.isDaemon()).isTrue();
            assertThat(thread.getName()).isEqualTo("class-preloader");
            assertThat(System.getProperty(ClassPreloader.BOOT_PREINITIALIZER_SWITCH)).isEqualTo("true");
            thread.join(Duration.ofMinutes(2).toMillis());
            assertThat(thread.isAlive()).as("preloader still running after 2 minutes").isFalse();
            PreloadResult result = ClassPreloader.lastRun();
            assertThat(result.outcome()).isEqualTo(PreloadResult.Outcome.DONE);
            assertThat(result.loaded()).isGreaterThan(3000);
        } finally {
            restore(ClassPreloader.BOOT_PREINITIALIZER_SWITCH, before);
        }
    }

    @Test
    void switchedOffByItsSystemPropertyItStartsNothing() {
        String before = System.getProperty(ClassPreloader.SWITCH_PROPERTY);
        System.setProperty(ClassPreloader.SWITCH_PROPERTY, "false");
        try {
            assertThat(ClassPreloader.startInBackground(getClass().getClassLoader())).isNull();
            assertThat(ClassPreloader.startInBackground(getClass().getClassLoader(), "--agent.preload-classes=FALSE"))
                    .isNull();
        } finally {
            restore(ClassPreloader.SWITCH_PROPERTY, before);
        }
    }

    @Test
    void onUnlessSwitchedOffOrOnOneCpu() {
        assertThat(ClassPreloader.enabled(null, 2)).isTrue();
        assertThat(ClassPreloader.enabled(null, 1)).isFalse();
        assertThat(ClassPreloader.enabled("true", 2)).isTrue();
        assertThat(ClassPreloader.enabled(" FALSE ", 4)).isFalse();
    }

    @Test
    void anArgumentWinsOverTheSystemPropertyWhichWinsOverTheEnvironmentAsInSpring() {
        String[] none = {};
        assertThat(ClassPreloader.setting(none, null, "false")).isEqualTo("false");
        assertThat(ClassPreloader.setting(none, "true", "false")).isEqualTo("true");
        String[] args = {"--server.port=1", "--agent.preload-classes=true", "--agent.preload-classes=false"};
        assertThat(ClassPreloader.setting(args, "true", "true")).isEqualTo("false");
        String[] lookalikes = {"--agent.preload-classesx=false", "agent.preload-classes=false"};
        assertThat(ClassPreloader.setting(lookalikes, null, null)).isNull();
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }

    private static InputStream list(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Records each name the JVM asks it for, then delegates. */
    private static final class RecordingLoader extends ClassLoader {
        final List<String> requested = new CopyOnWriteArrayList<>();

        RecordingLoader(ClassLoader parent) {
            super(parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            requested.add(name);
            return super.loadClass(name, resolve);
        }
    }
}
