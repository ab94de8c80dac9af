package io.edgetunnel.runtime.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Flux;

/**
 * A bridged socket moves to the event loop of the tunnel that carries its stream (real sockets on
 * loopback): bytes the client sent before the move arrive, both directions then run on the new loop, and a
 * loop that cannot take the channel leaves it working where it was.
 */
class SocketBridgeMoveTests {

    private EventLoopGroup acceptors;
    private EventLoopGroup tunnels;
    private Channel server;
    private final BlockingQueue<SocketBridge> accepted = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() {
        acceptors = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        tunnels = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap()
                .group(acceptors)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.add(SocketBridge.install(ch, Duration.ZERO, new SocketBridge.Listener() {
                            @Override
                            public void outputShutdown() {
                            }

                            @Override
                            public void failed(Throwable cause) {
                            }
                        }));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    @AfterEach
    void stop() {
        server.close().syncUninterruptibly();
        acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        tunnels.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void bothDirectionsRunOnTheTunnelsLoopAfterTheMoveAndNothingSentBeforeItIsLost() throws Exception {
        EventLoop tunnelLoop = tunnels.next();
        try (Socket client = connect()) {
            SocketBridge bridge = accepted.poll(10, TimeUnit.SECONDS);
            assertThat(bridge).isNotNull();
            assertThat(bridge.channel().eventLoop()).isNotSameAs(tunnelLoop);
            client.getOutputStream().write("before the move|".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();

            Reader reader = new Reader();
            CountDownLatch moved = new CountDownLatch(1);
            bridge.moveTo(tunnelLoop, () -> {
                bridge.writeFrom(Flux.just(ascii("from the agent")));
                bridge.subscribe(reader);
                moved.countDown();
            });
            assertThat(moved.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(bridge.channel().eventLoop()).isSameAs(tunnelLoop);

            OutputStream out = client.getOutputStream();
            out.write("after it".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();

            assertThat(readAll(client.getInputStream())).isEqualTo("from the agent");
            assertThat(reader.done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(reader.text()).isEqualTo("before the move|after it");
            assertThat(reader.threads).hasSize(1);
            assertThat(tunnelLoop.submit(Thread::currentThread).get(10, TimeUnit.SECONDS))
                    .isIn(reader.threads);
        }
    }

    @Test
    void aLoopOfAnotherKindCannotTakeTheSocketWhichKeepsWorkingWhereItWas() throws Exception {
        DefaultEventLoop notAnIoLoop = new DefaultEventLoop();
        try (Socket client = connect()) {
            SocketBridge bridge = accepted.poll(10, TimeUnit.SECONDS);
            assertThat(bridge).isNotNull();
            EventLoop home = bridge.channel().eventLoop();

            Reader reader = new Reader();
            CountDownLatch ran = new CountDownLatch(1);
            bridge.moveTo(notAnIoLoop, () -> {
                bridge.writeFrom(Flux.just(ascii("still here")));
                bridge.subscribe(reader);
                ran.countDown();
            });
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(bridge.channel().eventLoop()).isSameAs(home);
            assertThat(bridge.channel().isOpen()).isTrue();

            client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            assertThat(readAll(client.getInputStream())).isEqualTo("still here");
            assertThat(reader.done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(reader.text()).isEqualTo("ping");
        } finally {
            notAnIoLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private Socket connect() throws Exception {
        Socket client = new Socket();
        client.setSoTimeout(10_000);
        client.connect(server.localAddress(), 10_000);
        return client;
    }

    private static String readAll(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }

    private static ByteBuf ascii(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
    }

    /** Takes every buffer, noting the threads it was called on. */
    private static final class Reader implements Subscriber<ByteBuf> {

        final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        final CountDownLatch done = new CountDownLatch(1);
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ByteBuf buf) {
            threads.add(Thread.currentThread());
            synchronized (bytes) {
                bytes.writeBytes(ByteBufUtil.getBytes(buf));
            }
            buf.release();
        }

        @Override
        public void onError(Throwable t) {
            done.countDown();
        }

        @Override
        public void onComplete() {
            done.countDown();
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.US_ASCII);
            }
        }
    }
}
