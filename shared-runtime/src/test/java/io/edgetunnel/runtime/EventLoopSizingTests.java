package io.edgetunnel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EventLoopSizingTests {

    private String before;

    @BeforeEach
    void remember() {
        before = System.getProperty(EventLoopSizing.IO_WORKER_COUNT);
        System.clearProperty(EventLoopSizing.IO_WORKER_COUNT);
    }

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(EventLoopSizing.IO_WORKER_COUNT);
        } else {
            System.setProperty(EventLoopSizing.IO_WORKER_COUNT, before);
        }
    }

    @Test
    void unsetItBecomesOneLoopPerProcessor() {
        assertThat(EventLoopSizing.apply(3)).isEqualTo("3");
        assertThat(System.getProperty(EventLoopSizing.IO_WORKER_COUNT)).isEqualTo("3");
    }

    @Test
    void anExplicitCountIsKept() {
        System.setProperty(EventLoopSizing.IO_WORKER_COUNT, "6");
        assertThat(EventLoopSizing.apply(2)).isEqualTo("6");
        assertThat(System.getProperty(EventLoopSizing.IO_WORKER_COUNT)).isEqualTo("6");
    }

    @Test
    void neverZeroLoops() {
        assertThat(EventLoopSizing.apply(0)).isEqualTo("1");
    }
}
