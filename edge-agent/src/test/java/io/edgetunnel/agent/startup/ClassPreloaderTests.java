package io.edgetunnel.agent.startup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
        new ClassPreloader(new ClassLoader(null) {}).run();

        assertThat(ClassPreloader.lastRun().listFound()).isFalse();
        new ClassPreloadReport().onApplicationEvent(null);
        assertThat(output).contains("Class preloader: no " + ClassPreloader.CLASS_LIST + " in the agent's jar");
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
