package io.edgetunnel.agent.startup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The class list the agent's jar ships (edge-agent/refresh-preload-classes.sh writes it) still names the
 * classes of this class path: after a dependency upgrade that renames or drops classes, this fails and
 * says to regenerate it. The JDK's own classes are left out (the list is made on the image's JDK 25), as
 * are the classes Spring's AOT processing generates into the jar.
 */
class ClassPreloadListTests {

    /**
     * Spring's AOT processing names its generated classes {@code X__BeanDefinitions} and the like; the
     * build makes them after the tests run (process-aot, for the jar), so the test class path has none.
     */
    private static final String AOT_GENERATED = "__";

    private static final Pattern JDK = Pattern.compile("^(java|javax|jdk|sun|com\\.sun)\\..*");

    @Test
    void everyListedClassOutsideTheJdkIsOnTheClassPath() throws Exception {
        List<String> names = listedNames();
        assertThat(names).hasSizeGreaterThan(3000).doesNotHaveDuplicates();

        List<String> missing = new ArrayList<>();
        for (String name : names) {
            if (JDK.matcher(name).matches() || name.contains(AOT_GENERATED)) {
                continue;
            }
            try {
                Class.forName(name, false, getClass().getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                missing.add(name);
            }
        }
        assertThat(missing)
                .as("listed classes this class path does not have: run edge-agent/refresh-preload-classes.sh")
                .isEmpty();
    }

    @Test
    void theListHoldsTheStartsFirstClassesFirstAndTheTunnelAndProxyClassesButNotItsOwn() throws Exception {
        List<String> names = listedNames();
        Set<String> first = new HashSet<>(names.subList(0, names.size() / 4));

        assertThat(first).contains("org.springframework.boot.SpringApplication");
        assertThat(names).contains("io.edgetunnel.agent.tunnel.TunnelClient", "io.edgetunnel.agent.proxy.LocalAppForwarder");
        assertThat(names).noneMatch(name -> name.startsWith(ClassPreloader.class.getPackageName() + "."));
    }

    private List<String> listedNames() throws Exception {
        List<String> names = new ArrayList<>();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(ClassPreloader.CLASS_LIST)) {
            assertThat(in).as(ClassPreloader.CLASS_LIST).isNotNull();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    names.add(line.trim());
                }
            }
        }
        return names;
    }
}
