package io.edgetunnel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

class DroppedErrorLoggingTests {

    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final Logger ours = context.getLogger(DroppedErrorLogging.class);
    private final Logger reactors = context.getLogger("reactor.core.publisher.Operators");
    private Level previousLevel;

    @BeforeEach
    void capture() {
        events.start();
        previousLevel = ours.getLevel();
        ours.setLevel(Level.DEBUG);
        ours.addAppender(events);
        reactors.addAppender(events);
        DroppedErrorLogging.install();
    }

    @AfterEach
    void release() {
        ours.detachAppender(events);
        reactors.detachAppender(events);
        ours.setLevel(previousLevel);
    }

    @Test
    void aConnectionResetDroppedAfterItsSubscriberLeftIsDebugNotReactorsError() {
        Operators.onErrorDropped(
                new IOException("recvAddress(..) failed with error(-104): Connection reset by peer"), Context.empty());

        assertThat(events.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.DEBUG);
            assertThat(event.getLoggerName()).isEqualTo(DroppedErrorLogging.class.getName());
            assertThat(event.getFormattedMessage()).contains("Connection reset by peer");
        });
    }

    @Test
    void anyOtherDroppedErrorIsAWarningWithItsStackTrace() {
        Operators.onErrorDropped(new IllegalStateException("bug in an operator"), Context.empty());

        assertThat(events.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage()).contains("bug in an operator");
            assertThat(event.getThrowableProxy()).isNotNull();
        });
    }

    @Test
    void installingTwiceLogsOnce() {
        DroppedErrorLogging.install();
        Operators.onErrorDropped(new IOException("Broken pipe"), Context.empty());

        assertThat(events.list).hasSize(1);
    }
}
