package io.edgetunnel.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, which {@code .ci/run}
 * installs) driven through WebDriver. Names under {@code .test} resolve to loopback inside the browser,
 * so a page can be opened by the Host it would have in production ({@code http://app.test:<port>/}).
 * Where neither binary exists the calling test is skipped, loudly.
 */
public final class Browser implements AutoCloseable {

    /** Where screenshots go: under the module's target/, so a failed run can be looked at. */
    public static final Path SCREENSHOTS = Path.of("target", "screenshots");

    private final WebDriver driver;
    private final Path profile;

    private Browser(WebDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    /** Starts the browser, or skips the test (JUnit assumption) with the reason when it cannot. */
    public static Browser start() {
        Optional<Path> chromium = executable("CHROMIUM_BIN", "/usr/bin/chromium", "/usr/bin/chromium-browser");
        Optional<Path> driverBinary = executable("CHROMEDRIVER_BIN", "/usr/bin/chromedriver");
        String missing = chromium.isEmpty() ? "chromium" : driverBinary.isEmpty() ? "chromedriver" : null;
        if (missing != null) {
            String message = "BROWSER TESTS SKIPPED: no " + missing + " on this machine (expected: Debian's chromium "
                    + "and chromium-driver, /usr/bin/chromium and /usr/bin/chromedriver; .ci/run installs them)";
            System.err.println(message);
            Assumptions.abort(message);
        }
        Path profile;
        try {
            profile = Files.createTempDirectory("edge-tunnel-chromium");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.get().toFile());
        // headless as root in a sandbox-less container; no background traffic (this machine has no
        // internet, and Chromium's own lookups would only be refused); names under .test are ours
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--window-size=1280,860",
                "--user-data-dir=" + profile.toAbsolutePath(),
                "--host-resolver-rules=MAP *.test 127.0.0.1");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(driverBinary.get().toFile())
                .usingAnyFreePort()
                .build();
        return new Browser(new ChromeDriver(service, options), profile);
    }

    private static Optional<Path> executable(String variable, String... candidates) {
        String given = System.getenv(variable);
        if (given != null && Files.isExecutable(Path.of(given))) {
            return Optional.of(Path.of(given));
        }
        for (String candidate : candidates) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Optional.of(Path.of(candidate));
            }
        }
        return Optional.empty();
    }

    public WebDriver driver() {
        return driver;
    }

    public void open(String url) {
        driver.get(url);
    }

    /** Waits (polling) until {@code condition} gives a non-null, non-false value; generous deadlines only. */
    public <T> T await(Duration timeout, Function<WebDriver, T> condition) {
        return Awaitility.await()
                .atMost(timeout)
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions() // an element replaced by the page's next render, a page still loading
                .until(() -> condition.apply(driver), value -> value != null && !Boolean.FALSE.equals(value));
    }

    /** Saves a PNG of the viewport as {@code target/screenshots/<name>.png} and returns its path. */
    public Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name + ".png");
            Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temporary profile left behind is harmless
            }
        }
    }
}
