package io.edgetunnel.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

class EventLoopSchedulersTests {

    private final DefaultEventExecutorGroup loops = new DefaultEventExecutorGroup(2);

    @AfterEach
    void shutdown() {
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void offAnEventLoopItIsTheParallelScheduler() {
        assertThat(EventLoopSchedulers.current()).isSameAs(Schedulers.parallel());
        assertThat(EventLoopSchedulers.currentLoop()).isNull();
    }

    @Test
    void aTimerScheduledOnALoopFiresOnThatLoop() throws Exception {
        EventExecutor loop = loops.next();
        CompletableFuture<Thread> scheduledFrom = new CompletableFuture<>();
        CompletableFuture<Thread> firedOn = new CompletableFuture<>();
        loop.execute(() -> {
            scheduledFrom.complete(Thread.currentThread());
            Mono.delay(Duration.ofMillis(20), EventLoopSchedulers.current())
                    .subscribe(tick -> firedOn.complete(Thread.currentThread()), firedOn::completeExceptionally);
        });
        assertThat(firedOn.get(5, TimeUnit.SECONDS)).isSameAs(scheduledFrom.get(5, TimeUnit.SECONDS));
    }

    @Test
    void eachLoopHasItsOwnSchedulerReusedAcrossCalls() throws Exception {
        EventExecutor first = loops.next();
        EventExecutor second = loops.next();
        assertThat(first).isNotSameAs(second);
        Scheduler firstA = first.submit(EventLoopSchedulers::current).get(5, TimeUnit.SECONDS);
        Scheduler firstB = first.submit(EventLoopSchedulers::current).get(5, TimeUnit.SECONDS);
        Scheduler other = second.submit(EventLoopSchedulers::current).get(5, TimeUnit.SECONDS);
        EventExecutor seen = first.submit(EventLoopSchedulers::currentLoop).get(5, TimeUnit.SECONDS);
        assertThat(firstA).isSameAs(firstB).isNotSameAs(other).isNotSameAs(Schedulers.parallel());
        assertThat(seen).isSameAs(first);
    }
}
