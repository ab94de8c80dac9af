package io.edgetunnel.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.e2e.support.PublicClient;
import io.edgetunnel.e2e.support.UpstreamApp;
import io.edgetunnel.testsupport.NoLeaks;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real gRPC through the tunnel: a grpc-java server (Netty transport, plaintext) is the local app of a
 * route with {@code protocol: h2c}, and a grpc-java client dials the ingress's public port with the
 * route's authority. Unary, server-streaming and bidi calls, an error status (which gRPC carries in
 * the response trailers), and a deadline whose cancellation reaches the server. Messages are strings
 * with a plain marshaller, so no protoc step is needed.
 */
@ExtendWith(NoLeaks.class)
class GrpcIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String SERVICE = "e2e.Echo";
    private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<String, String> SAY = method("Say", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<String, String> COUNT =
            method("Count", MethodDescriptor.MethodType.SERVER_STREAMING);
    private static final MethodDescriptor<String, String> CHAT = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);
    private static final MethodDescriptor<String, String> FIND = method("Find", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<String, String> HANG = method("Hang", MethodDescriptor.MethodType.UNARY);
    private static final Metadata.Key<String> DETAIL = Metadata.Key.of("x-detail", Metadata.ASCII_STRING_MARSHALLER);

    /** Server calls of {@link #HANG} whose context was cancelled (client deadline passed, stream reset). */
    private static final AtomicInteger hangsCancelled = new AtomicInteger();

    private static Server grpcServer;
    private static UpstreamApp httpApp;
    private static IngressNode ingress;
    private static AgentNode agent;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws IOException {
        grpcServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                // the handlers never block: run them on gRPC's transport threads; its default executor
                // hand-off takes a lock that BlockHound flags on those (non-blocking) threads when many
                // calls arrive at once
                .directExecutor()
                .addService(echoService())
                .build()
                .start();
        httpApp = new UpstreamApp("http1");
        ingress = IngressNode.start("ingress.proxy.h2c=true");
        Map<String, String> routes = new LinkedHashMap<>();
        routes.put("grpc.example", "http://127.0.0.1:" + grpcServer.getPort());
        routes.put("web.example", httpApp.url());
        agent = AgentNode.start(ingress, "agent-grpc", routes, "agent.routes[0].protocol=h2c");
        await().atMost(TIMEOUT).until(() -> ingress.registry().tunnelCount("grpc.example") == 1);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", ingress.publicPort())
                .overrideAuthority("grpc.example")
                .usePlaintext()
                .build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        if (agent != null) {
            agent.close();
        }
        if (ingress != null) {
            ingress.close();
        }
        if (httpApp != null) {
            httpApp.close();
        }
        if (grpcServer != null) {
            grpcServer.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void unaryCallsWork() {
        assertThat(ClientCalls.blockingUnaryCall(channel, SAY, options(), "hello")).isEqualTo("echo: hello");
        // larger than the tunnel's stream window both ways, so flow control is crossed too
        String big = "x".repeat(600_000);
        assertThat(ClientCalls.blockingUnaryCall(channel, SAY, options(), big)).isEqualTo("echo: " + big);
    }

    @Test
    void serverStreamingDeliversEveryMessageInOrder() {
        Iterator<String> replies = ClientCalls.blockingServerStreamingCall(channel, COUNT, options(), "50");
        List<String> received = new ArrayList<>();
        replies.forEachRemaining(received::add);
        assertThat(received).hasSize(50);
        assertThat(received.get(0)).isEqualTo("item-0");
        assertThat(received.get(49)).isEqualTo("item-49");
    }

    @Test
    void anErrorStatusAndItsMetadataArriveIntact() {
        // the server answers with trailers only (no message): status, description and metadata
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, FIND, options(), "widget-42"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no widget-42 here");
                    assertThat(e.getTrailers().get(DETAIL)).isEqualTo("looked everywhere");
                });
    }

    @Test
    void anErrorAfterStreamedMessagesArrivesAfterThem() {
        // "3!" streams three messages, then fails: the status travels in trailers after DATA
        Iterator<String> replies = ClientCalls.blockingServerStreamingCall(channel, COUNT, options(), "3!");
        List<String> received = new ArrayList<>();
        assertThatThrownBy(() -> replies.forEachRemaining(received::add))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("stopped after 3");
                });
        assertThat(received).containsExactly("item-0", "item-1", "item-2");
    }

    @Test
    void aDeadlineEndsTheCallAndCancelsItOnTheServer() {
        int before = hangsCancelled.get();
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(
                        channel, HANG, CallOptions.DEFAULT.withDeadlineAfter(800, TimeUnit.MILLISECONDS), "wait"))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        await().atMost(TIMEOUT).until(() -> hangsCancelled.get() > before);
        // and the channel is still good afterwards
        assertThat(ClientCalls.blockingUnaryCall(channel, SAY, options(), "after")).isEqualTo("echo: after");
    }

    @Test
    void bidiCallsPingPongMessageByMessage() throws InterruptedException {
        BlockingQueue<Object> replies = new LinkedTransferQueue<>();
        StreamObserver<String> requests = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(CHAT, options()), new StreamObserver<>() {
                    @Override
                    public void onNext(String value) {
                        replies.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        replies.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        replies.add("<done>");
                    }
                });
        // each reply must come back before the next request is sent: nothing may wait for the end
        for (int i = 0; i < 5; i++) {
            requests.onNext("ping-" + i);
            assertThat(replies.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("pong-" + i);
        }
        requests.onCompleted();
        assertThat(replies.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("<done>");
    }

    @Test
    void manyConcurrentCallsShareTheChannel() {
        List<com.google.common.util.concurrent.ListenableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            calls.add(ClientCalls.futureUnaryCall(channel.newCall(SAY, options()), "n" + i));
        }
        for (int i = 0; i < 30; i++) {
            try {
                assertThat(calls.get(i).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("echo: n" + i);
            } catch (Exception e) {
                throw new AssertionError("call " + i, e);
            }
        }
    }

    @Test
    void http11RoutesOnTheSameAgentAreUnaffected() {
        PublicClient.Reply reply = PublicClient.get(ingress, "web.example", "/name");
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.body()).isEqualTo("http1");
    }

    private static CallOptions options() {
        return CallOptions.DEFAULT.withDeadlineAfter(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(UTF8)
                .setResponseMarshaller(UTF8)
                .build();
    }

    private static ServerServiceDefinition echoService() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(SAY, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext("echo: " + request);
                    response.onCompleted();
                }))
                .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((request, response) -> {
                    boolean fail = request.endsWith("!");
                    int count = Integer.parseInt(fail ? request.substring(0, request.length() - 1) : request);
                    for (int i = 0; i < count; i++) {
                        response.onNext("item-" + i);
                    }
                    if (fail) {
                        response.onError(Status.RESOURCE_EXHAUSTED.withDescription("stopped after " + count)
                                .asRuntimeException());
                    } else {
                        response.onCompleted();
                    }
                }))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(response -> new StreamObserver<String>() {
                    @Override
                    public void onNext(String value) {
                        response.onNext(value.replace("ping", "pong"));
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        response.onCompleted();
                    }
                }))
                .addMethod(FIND, ServerCalls.asyncUnaryCall((request, response) -> {
                    Metadata trailers = new Metadata();
                    trailers.put(DETAIL, "looked everywhere");
                    response.onError(Status.NOT_FOUND.withDescription("no " + request + " here")
                            .asRuntimeException(trailers));
                }))
                .addMethod(HANG, ServerCalls.asyncUnaryCall((request, response) ->
                        // never answers; counts the cancellation that the client's deadline causes
                        Context.current().addListener(context -> hangsCancelled.incrementAndGet(), Runnable::run)))
                .build();
    }
}
