package io.edgetunnel.runtime;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.context.event.SpringApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;

/**
 * Moves console logging off the calling thread. Both services log on their event loops (one access
 * line per request, tunnel events), and a console write blocks whenever stdout's reader (the
 * container runtime, a pipe) falls behind: a slow log collector would stall every connection on
 * that loop. Boot's console appender is wrapped in a bounded {@link AsyncAppender} that never
 * blocks; when its queue is full, events are dropped (and counted by logback) rather than waited for.
 *
 * <p>Runs once the application has started, so that start-up messages, above all the report of a
 * failed start, are still written before the process can exit (a failed start also flushes and
 * undoes the wrapping, for another application in the same JVM); it is idempotent
 * (several applications in one JVM share one logger context), and is switched off with {@code
 * edgetunnel.logging.async-console=false}.
 */
public final class AsyncConsoleLogging implements ApplicationListener<SpringApplicationEvent> {

    static final String APPENDER_NAME = "ASYNC_CONSOLE";
    static final int QUEUE_SIZE = 8192;

    @Override
    public void onApplicationEvent(SpringApplicationEvent event) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        if (event instanceof ApplicationFailedEvent) {
            unwrapConsole(context);
        } else if (event instanceof ApplicationStartedEvent started) {
            Environment environment = started.getApplicationContext().getEnvironment();
            if (environment.getProperty("edgetunnel.logging.async-console", Boolean.class, true)) {
                wrapConsole(context);
            }
        }
    }

    /** Replaces every console appender of the root logger by one async appender feeding them. */
    static synchronized void wrapConsole(LoggerContext context) {
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root.getAppender(APPENDER_NAME) != null) {
            return;
        }
        List<Appender<ILoggingEvent>> consoles = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            Appender<ILoggingEvent> appender = it.next();
            if (appender instanceof ch.qos.logback.core.ConsoleAppender) {
                consoles.add(appender);
            }
        }
        if (consoles.isEmpty()) {
            return;
        }
        AsyncAppender async = new AsyncAppender();
        async.setContext(context);
        async.setName(APPENDER_NAME);
        async.setQueueSize(QUEUE_SIZE);
        async.setDiscardingThreshold(0); // keep every level until the queue is really full
        async.setNeverBlock(true);
        async.setIncludeCallerData(false);
        for (Appender<ILoggingEvent> console : consoles) {
            async.addAppender(console);
        }
        async.start();
        root.addAppender(async);
        for (Appender<ILoggingEvent> console : consoles) {
            root.detachAppender(console);
        }
    }

    /** Writes out what is queued and puts the console appenders back on the root logger. */
    static synchronized void unwrapConsole(LoggerContext context) {
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (!(root.getAppender(APPENDER_NAME) instanceof AsyncAppender async)) {
            return;
        }
        List<Appender<ILoggingEvent>> consoles = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it = async.iteratorForAppenders(); it.hasNext(); ) {
            consoles.add(it.next());
        }
        root.detachAppender(async);
        async.stop(); // drains the queue (bounded by its flush time), then stops the consoles
        for (Appender<ILoggingEvent> console : consoles) {
            console.start();
            root.addAppender(console);
        }
    }
}
