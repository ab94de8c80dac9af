package io.edgetunnel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class AsyncConsoleLoggingTests {

    private final LoggerContext context = new LoggerContext();
    private final CountDownLatch consoleUnblocked = new CountDownLatch(1);
    private final List<String> written = new CopyOnWriteArrayList<>();

    /** A console whose writes hang until released: stdout's reader stopped reading. */
    private final class StuckConsole extends ConsoleAppender<ILoggingEvent> {
        @Override
        protected void append(ILoggingEvent event) {
            try {
                consoleUnblocked.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            written.add(event.getFormattedMessage());
        }
    }

    @AfterEach
    void stop() {
        consoleUnblocked.countDown();
        context.stop();
    }

    private Logger rootWithConsole() {
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        StuckConsole console = new StuckConsole();
        console.setContext(context);
        console.setName("CONSOLE");
        ch.qos.logback.classic.encoder.PatternLayoutEncoder encoder = new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        console.setEncoder(encoder);
        console.start();
        assertThat(console.isStarted()).isTrue();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(console);
        return root;
    }

    @Test
    @Timeout(30)
    void loggingNeverWaitsForAStuckConsoleAndDeliversOnceItMovesAgain() throws Exception {
        Logger root = rootWithConsole();
        AsyncConsoleLogging.wrapConsole(context);

        long start = System.nanoTime();
        for (int i = 0; i < 3 * AsyncConsoleLogging.QUEUE_SIZE; i++) {
            root.info("line {}", i);
        }
        // three queues' worth logged against a console that writes nothing: returned without waiting
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(written).isEmpty();

        consoleUnblocked.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!written.contains("line 0") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(written).contains("line 0");
    }

    @Test
    void theConsoleIsWrappedOnceAndNoLongerAttachedDirectly() {
        Logger root = rootWithConsole();

        AsyncConsoleLogging.wrapConsole(context);
        AsyncConsoleLogging.wrapConsole(context);

        assertThat(root.getAppender("CONSOLE")).isNull();
        AsyncAppender async = (AsyncAppender) root.getAppender(AsyncConsoleLogging.APPENDER_NAME);
        assertThat(async.isNeverBlock()).isTrue();
        assertThat(async.getAppender("CONSOLE")).isInstanceOf(StuckConsole.class);
        int attached = 0;
        for (var it = root.iteratorForAppenders(); it.hasNext(); it.next()) {
            attached++;
        }
        assertThat(attached).isEqualTo(1);
    }

    @Test
    void unwrappingWritesOutWhatIsQueuedAndReattachesTheConsole() {
        Logger root = rootWithConsole();
        consoleUnblocked.countDown();
        AsyncConsoleLogging.wrapConsole(context);
        for (int i = 0; i < 100; i++) {
            root.info("queued {}", i);
        }

        AsyncConsoleLogging.unwrapConsole(context);

        assertThat(written).contains("queued 0", "queued 99");
        assertThat(root.getAppender(AsyncConsoleLogging.APPENDER_NAME)).isNull();
        assertThat(root.getAppender("CONSOLE")).isInstanceOf(StuckConsole.class);
        assertThat(root.getAppender("CONSOLE").isStarted()).isTrue();
        root.info("direct");
        assertThat(written).contains("direct");
    }

    @Test
    void aStartedSpringApplicationLogsThroughTheAsyncConsoleAndAFailedOneDoesNot() {
        LoggerContext shared = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        Logger root = shared.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        org.springframework.boot.SpringApplication application =
                new org.springframework.boot.SpringApplication(Object.class);
        application.setWebApplicationType(org.springframework.boot.WebApplicationType.NONE);
        // the build turns the wrapping off for log assertions elsewhere; a command-line argument wins
        try (var started = application.run("--edgetunnel.logging.async-console=true")) {
            assertThat(root.getAppender(AsyncConsoleLogging.APPENDER_NAME))
                    .as("the listener registered in spring.factories wrapped the console")
                    .isInstanceOf(AsyncAppender.class);
            assertThat(root.getAppender("CONSOLE")).isNull();
        } finally {
            AsyncConsoleLogging.unwrapConsole(shared);
        }
        assertThat(root.getAppender("CONSOLE")).isNotNull();
    }
}
