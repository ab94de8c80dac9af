package io.edgetunnel.agent.startup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

@ExtendWith(OutputCaptureExtension.class)
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
    void aJarWithoutTheListIsReportedOnceTheAgentIsReady(CapturedOutput output) {
        // no parent: this loader has no resources, so no list
        new ClassPreloader(new ClassLoader(null) {}).preloadListedClasses();

        assertThat(ClassPreloader.lastRun().listFound()).isFalse();
        new ClassPreloadReport().onApplicationEvent(null);
        assertThat(output).contains("Class preloader: no " + ClassPreloader.CLASS_LIST + " in the agent's jar");
    }

    @Test
    void onUnlessSwitchedOffOrOnOneCpu() {
        Map<String, String> none = Map.of();
        assertThat(ClassPreloader.enabled(none::get, none::get, 2)).isTrue();
        assertThat(ClassPreloader.enabled(none::get, none::get, 1)).isFalse();

        Map<String, String> off = Map.of(ClassPreloader.SWITCH_PROPERTY, "false");
        assertThat(ClassPreloader.enabled(off::get, none::get, 4)).isFalse();
        Map<String, String> envOff = Map.of(ClassPreloader.SWITCH_ENVIRONMENT, " FALSE ");
        assertThat(ClassPreloader.enabled(none::get, envOff::get, 4)).isFalse();
        // the system property wins over the environment, as Spring's own order has it
        Map<String, String> on = Map.of(ClassPreloader.SWITCH_PROPERTY, "true");
        assertThat(ClassPreloader.enabled(on::get, envOff::get, 4)).isTrue();
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
