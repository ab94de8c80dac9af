package io.edgetunnel.runtime;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationStartingEvent;
import org.springframework.context.ApplicationListener;
import reactor.core.publisher.Hooks;

/**
 * Logs errors that Reactor drops (signalled after their subscriber was gone) by what they mean
 * instead of Reactor's default ERROR line with a stack trace. A connection reset reaches both the
 * inbound and the outbound side of a tunnel or a public connection; the first is handled (the
 * tunnel is closed and logged), the second then finds no subscriber: that is a connection already
 * known to be lost, DEBUG. Anything else that is dropped is still worth a WARN.
 */
public final class DroppedErrorLogging implements ApplicationListener<ApplicationStartingEvent> {

    private static final Logger log = LoggerFactory.getLogger(DroppedErrorLogging.class);
    private static final AtomicBoolean installed = new AtomicBoolean();

    @Override
    public void onApplicationEvent(ApplicationStartingEvent event) {
        install();
    }

    /** Idempotent: Reactor's hooks are JVM-wide and composed, so one install serves every application. */
    static void install() {
        if (installed.compareAndSet(false, true)) {
            Hooks.onErrorDropped(DroppedErrorLogging::log);
        }
    }

    static void log(Throwable error) {
        if (isConnectionLoss(error)) {
            log.debug("error after the connection was already closing: {}", error.toString());
        } else {
            log.warn("error dropped by a finished reactive sequence: {}", error.toString(), error);
        }
    }

    private static boolean isConnectionLoss(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
