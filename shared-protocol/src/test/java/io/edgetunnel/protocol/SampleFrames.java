package io.edgetunnel.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Realistic frames of every type, and helpers to encode them to plain byte arrays. */
final class SampleFrames {

    static final String TOKEN = "s3cr3t-t0ken-value";
    static final String IDENTITY_PROOF = "POST https://sts.amazonaws.com/ Action=GetCallerIdentity X-Amz-Signature=abc";

    private SampleFrames() {}

    /** One or more frames of every type except DATA (whose content is a buffer the caller owns). */
    static List<Frame> controlFrames() {
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("agentVersion", "0.1.0");
        attributes.put("ecs.cluster", "edge-prod");
        attributes.put("region", "eu-west-1");
        attributes.put("site", "Zürich – 東京");
        return List.of(
                new Frame.Hello(
                        1,
                        3,
                        "agent-mi-0123456789abcdef0",
                        TOKEN,
                        IDENTITY_PROOF,
                        List.of(
                                RouteClaim.host("app.example.com"),
                                new RouteClaim("*.preview.example.com", "/"),
                                new RouteClaim("api.example.com", "/v1/"),
                                new RouteClaim("[2001:db8::1]", "/")),
                        attributes),
                new Frame.Hello(1, 1, "", "", "", List.of(), Map.of()),
                new Frame.Accept(1, "sess-7f3c2a", 262_144, 65_536, 100, 15_000),
                new Frame.Accept(2, "sess-7f3c2b", 262_144, 65_536, 100, 15_000, "replica-eu-1a", 3),
                new Frame.Accept(2, "", 1, 1, 1, 1, "", 1),
                new Frame.Reject(RejectReason.HOST_NOT_ALLOWED, "host app.example.com belongs to another identity"),
                new Frame.Reject(RejectReason.BAD_CREDENTIALS, ""),
                new Frame.Request(
                        1,
                        "POST",
                        "/api/orders?q=caf%C3%A9&lang=日本語",
                        "*.preview.example.com",
                        "/",
                        List.of(
                                new Header("Host", "pr-42.preview.example.com"),
                                new Header("Content-Type", "application/json; charset=utf-8"),
                                new Header("Set-Cookie", "a=1"),
                                new Header("set-cookie", "b=2"),
                                new Header("SET-COOKIE", "c=3"),
                                new Header("X-Empty", ""),
                                new Header("X-Unicode", "naïve ☃ 😀")),
                        false),
                new Frame.Request(2_147_483_647, "GET", "/", "app.example.com", "/", List.of(), true),
                new Frame.Response(
                        1,
                        200,
                        List.of(
                                new Header("content-type", "text/plain"),
                                new Header("Vary", "Accept"),
                                new Header("vary", "Accept-Encoding")),
                        false),
                new Frame.Response(3, 204, List.of(), true),
                new Frame.Response(5, 999, List.of(), true),
                new Frame.Trailers(1, List.of(new Header("grpc-status", "0"), new Header("grpc-message", "ok ✓"))),
                new Frame.Trailers(7, List.of()),
                new Frame.WindowUpdate(1, 16_384),
                new Frame.WindowUpdate(9, Integer.MAX_VALUE),
                new Frame.Reset(1, ResetCode.UPSTREAM_TIMEOUT, "local app did not answer within 30s"),
                new Frame.Reset(11, ResetCode.CANCEL, ""),
                new Frame.Ping(0x0123_4567_89AB_CDEFL),
                new Frame.Ping(-1L),
                new Frame.Pong(Long.MIN_VALUE),
                new Frame.Drain("SIGTERM: replica shutting down"),
                new Frame.Drain(""),
                new Frame.RouteHealth(new RouteClaim("api.example.com", "/v1/"), false),
                new Frame.RouteHealth(RouteClaim.host("app.example.com"), true));
    }

    static Frame.Data data(int streamId, byte[] content, boolean endStream) {
        return new Frame.Data(streamId, Unpooled.wrappedBuffer(content), endStream);
    }

    static byte[] utf8(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** Encodes with the default limits and returns the bytes; the encoded buffer is released. */
    static byte[] encodeToBytes(Frame frame) {
        ByteBuf encoded = new FrameCodec(ProtocolLimits.DEFAULTS).encode(frame, ByteBufAllocator.DEFAULT);
        try {
            return ByteBufUtil.getBytes(encoded);
        } finally {
            encoded.release();
        }
    }
}
