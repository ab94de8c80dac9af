package io.edgetunnel.e2e.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufMono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;
import reactor.netty.resources.ConnectionProvider;

/** A public HTTP client talking to the ingress's public port with a chosen Host header. */
public final class PublicClient {

    public record Reply(int status, HttpHeaders headers, String body) {}

    private static final ConnectionProvider POOL =
            ConnectionProvider.builder("e2e-public").maxConnections(512).pendingAcquireMaxCount(-1).build();

    /**
     * The test client's own buffers, outside the leak detector (unpooled, freed by the GC at worst).
     * Reactor Netty's client can drop, unreleased, a body chunk that arrives on a connection the
     * balancer closes under it while the response is already terminated (a rolling deploy behind
     * HAProxy: CI saw it once, in the client's pipeline behind its response-timeout handler). The
     * detector is there for the ingress's and the agent's buffers, which these tests are about.
     */
    private static final ByteBufAllocator UNTRACKED = new UnpooledByteBufAllocator(true, true);

    private PublicClient() {}

    public static HttpClient to(IngressNode ingress, String host) {
        return HttpClient.create(POOL)
                .option(ChannelOption.ALLOCATOR, UNTRACKED)
                .host("127.0.0.1")
                .port(ingress.publicPort())
                .headers(h -> h.set("Host", host))
                .responseTimeout(Duration.ofSeconds(60));
    }

    /** To a balancer (or any listener) on a loopback port, with a chosen Host. */
    public static HttpClient to(int port, String host) {
        return HttpClient.create(POOL)
                .option(ChannelOption.ALLOCATOR, UNTRACKED)
                .host("127.0.0.1")
                .port(port)
                .headers(h -> h.set("Host", host))
                .responseTimeout(Duration.ofSeconds(60));
    }

    /** One request on a connection of its own, closed afterwards: no state carried between requests. */
    public static Reply getOnFreshConnection(IngressNode ingress, String host, String path) {
        return HttpClient.newConnection()
                .option(ChannelOption.ALLOCATOR, UNTRACKED)
                .host("127.0.0.1")
                .port(ingress.publicPort())
                .headers(h -> h.set("Host", host).set("Connection", "close"))
                .responseTimeout(Duration.ofSeconds(60))
                .get()
                .uri(path)
                .responseSingle(PublicClient::reply)
                .block(Duration.ofSeconds(60));
    }

    public static Reply get(IngressNode ingress, String host, String path) {
        return to(ingress, host).get().uri(path).responseSingle(PublicClient::reply).block(Duration.ofSeconds(60));
    }

    public static Mono<Reply> reply(HttpClientResponse response, ByteBufMono body) {
        return body.asString(StandardCharsets.UTF_8)
                .defaultIfEmpty("")
                .map(text -> new Reply(response.status().code(), response.responseHeaders(), text));
    }

    /** Status and SHA-256 of a response body, streamed without holding it. */
    public record Digest(int status, long length, String sha256) {}

    public static Mono<Digest> digest(HttpClientResponse response, reactor.core.publisher.Flux<ByteBuf> body) {
        var digest = UpstreamApp.sha256();
        long[] length = {0};
        return body.doOnNext(buf -> {
                    length[0] += buf.readableBytes();
                    digest.update(buf.nioBuffer());
                })
                // count(), not then(): a discard hook must never see (and release again) a received buffer
                .count()
                .map(count -> new Digest(
                        response.status().code(), length[0], java.util.HexFormat.of().formatHex(digest.digest())));
    }

    /**
     * POSTs {@code size} bytes of {@link Payloads#stream} (seed 0) to the upstream's {@code /sha256},
     * which answers with the byte count and digest it received.
     */
    public static Reply uploadForDigest(IngressNode ingress, String host, long size, Duration timeout) {
        return to(ingress, host)
                .responseTimeout(timeout)
                .headers(h -> h.set("Content-Length", size))
                .post()
                .uri("/sha256")
                .send(Payloads.stream(size, 64 * 1024))
                .responseSingle(PublicClient::reply)
                .block(timeout);
    }
}
