package io.edgetunnel.agent.startup;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Loads, on a second core, the classes the agent's start is about to need, so the main thread finds
 * them loaded instead of searching, reading and defining each one itself.
 *
 * <p>Why: on a small host the agent's start is one interpreted main thread, a third of it class loading
 * (~5,700 classes from ~70 jars and the JDK's modules), while the second core is only partly busy with
 * the JIT. The JVM's own answer, a CDS archive or AOT cache, needs a training run on every host and adds
 * RSS (docs/benchmarks.md, "Footprint"); this list is the same for every platform and ships in the jar.
 *
 * <p>Classes are only loaded, never initialised ({@code Class.forName(name, false, loader)}): no static
 * initialiser runs early or on another thread, so the start behaves exactly as without the preloader. A
 * name that is missing or cannot be linked is skipped. Nothing is logged here: logging is not set up
 * yet, and starting it from this thread would race the main thread's set-up; {@link #lastRun()} keeps the
 * result for {@link ClassPreloadReport}. When it runs, Spring Boot's own background pre-initialiser is
 * off for the start (unless {@value #BOOT_PREINITIALIZER_SWITCH} is set): it would compete for the same core.
 *
 * <p>Off with {@code --agent.preload-classes=false} (an argument), {@code -Dagent.preload-classes=false} or
 * {@code AGENT_PRELOAD_CLASSES=false}, in Spring's order of precedence (only {@code false} turns it off),
 * and on a one-CPU host, where it would only take turns with the main thread. It is read before Spring
 * starts, so a configuration file cannot set it.
 */
public final class ClassPreloader implements Runnable {

    /** The list, one binary class name a line, in the order an agent's start loads them. */
    public static final String CLASS_LIST = "META-INF/edge-agent/preload-classes.txt";

    static final String SWITCH_PROPERTY = "agent.preload-classes";
    static final String SWITCH_ARGUMENT = "--" + SWITCH_PROPERTY + "=";
    static final String SWITCH_ENVIRONMENT = "AGENT_PRELOAD_CLASSES";
    static final String BOOT_PREINITIALIZER_SWITCH = "spring.backgroundpreinitializer.ignore";

    private static final AtomicReference<PreloadResult> LAST_RUN = new AtomicReference<>();

    private final ClassLoader loader;

    public ClassPreloader(ClassLoader loader) {
        this.loader = Objects.requireNonNull(loader, "loader");
    }

    /**
     * Starts preloading {@link #CLASS_LIST} on a daemon thread, unless switched off (by the program's
     * arguments, a system property or the environment) or on one CPU; returns that thread, or null.
     * No lambdas on this path: the first one spun costs the main thread tens of milliseconds, before the
     * preloader has started.
     */
    public static Thread startInBackground(ClassLoader loader, String... args) {
        String setting = setting(args, System.getProperty(SWITCH_PROPERTY), System.getenv(SWITCH_ENVIRONMENT));
        if (!enabled(setting, Runtime.getRuntime().availableProcessors())) {
            return null;
        }
        // before start(): a missing list finishes at once, and its result must not be overwritten
        LAST_RUN.set(PreloadResult.running());
        Thread thread = new Thread(new ClassPreloader(loader), "class-preloader");
        thread.setDaemon(true);
        try {
            thread.start();
        } catch (OutOfMemoryError | RuntimeException e) {
            // no thread to spare (a process limit): the agent starts without the preloader
            LAST_RUN.set(PreloadResult.failed(e, 0));
            return null;
        }
        if (System.getProperty(BOOT_PREINITIALIZER_SWITCH) == null) {
            // Boot reads it once, when SpringApplication is constructed, after this
            System.setProperty(BOOT_PREINITIALIZER_SWITCH, "true");
        }
        return thread;
    }

    /** The switch's value: the last {@code --agent.preload-classes=} argument, else the property, else the environment. */
    static String setting(String[] args, String property, String environment) {
        String value = null;
        for (String arg : args) {
            if (arg.startsWith(SWITCH_ARGUMENT)) {
                value = arg.substring(SWITCH_ARGUMENT.length());
            }
        }
        if (value == null) {
            value = property != null ? property : environment;
        }
        return value;
    }

    static boolean enabled(String setting, int cpus) {
        return cpus > 1 && (setting == null || !setting.trim().equalsIgnoreCase("false"));
    }

    /** Where the preload of this JVM stands, or null if none was started. */
    public static PreloadResult lastRun() {
        return LAST_RUN.get();
    }

    @Override
    public void run() {
        LAST_RUN.set(preloadListedClasses());
    }

    PreloadResult preloadListedClasses() {
        long start = System.nanoTime();
        try (InputStream list = loader.getResourceAsStream(CLASS_LIST)) {
            return list == null ? PreloadResult.noList() : preload(list, start);
        } catch (IOException | RuntimeException e) {
            // a broken list or loader: the start goes on without it, and the report says why
            return PreloadResult.failed(e, System.nanoTime() - start);
        }
    }

    /** Loads each class the list names (blank lines and lines starting with # are skipped). */
    PreloadResult preload(InputStream list, long start) throws IOException {
        int loaded = 0;
        int skipped = 0;
        BufferedReader reader = new BufferedReader(new InputStreamReader(list, StandardCharsets.UTF_8));
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            String name = line.trim();
            if (name.isEmpty() || name.startsWith("#")) {
                continue;
            }
            try {
                Class.forName(name, false, loader);
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                // another JDK or a newer library: the class is simply not preloaded
                skipped++;
            }
        }
        return new PreloadResult(PreloadResult.Outcome.DONE, loaded, skipped, System.nanoTime() - start, null);
    }
}
