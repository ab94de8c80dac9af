package io.edgetunnel.protocol.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCounted;
import java.nio.charset.StandardCharsets;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The WebSocket records of a passthrough stream (spec section 19.2): one DATA frame carries one
 * WebSocket frame as a header byte (FIN bit, opcode) and the frame's payload. Converts Netty
 * {@link WebSocketFrame}s to records, splitting frames larger than a fragment size, and records back
 * to frames.
 */
public final class WebSocketRecords {

    public static final int FIN = 0x80;
    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;
    /** RFC 6455 section 5.5: control frames carry at most 125 bytes. */
    public static final int MAX_CONTROL_PAYLOAD = 125;

    private WebSocketRecords() {}

    /**
     * The largest record payload a sender uses: within one DATA frame and at most half a window, so
     * the credit batched back by the receiver always covers a whole record eventually.
     */
    public static int fragmentSize(int maxDataPayload, int window) {
        return Math.max(MAX_CONTROL_PAYLOAD, Math.min(64 * 1024, Math.min(maxDataPayload - 1, window / 2)));
    }

    /**
     * The records of one WebSocket frame, generated one at a time as they are requested; takes over
     * {@code frame} and releases it when the flux ends or is cancelled. A close frame becomes a close
     * record with its status and reason.
     */
    public static Flux<ByteBuf> records(WebSocketFrame frame, int fragmentSize, ByteBufAllocator alloc) {
        int opcode = opcode(frame);
        boolean fin = frame.isFinalFragment();
        return Flux.using(
                () -> frame,
                f -> Flux.<ByteBuf, Integer>generate(() -> 0, (offset, sink) -> {
                    ByteBuf payload = f.content();
                    int remaining = payload.readableBytes() - offset;
                    int bytes = Math.min(remaining, fragmentSize);
                    boolean last = bytes == remaining;
                    int header = (offset == 0 ? opcode : CONTINUATION) | (last && fin ? FIN : 0);
                    sink.next(record(header, payload.retainedSlice(payload.readerIndex() + offset, bytes), alloc));
                    if (last) {
                        sink.complete();
                    }
                    return offset + bytes;
                }),
                ReferenceCounted::release);
    }

    /**
     * One side's frame records followed by its close record, as both peers relay a socket: a close
     * without status becomes an empty close record, a connection lost without a close frame an
     * error (the stream is reset, never closed cleanly), and a frame over our size limit, which
     * Netty already answered with 1009 on this socket, a 1009 close record for the far end.
     */
    public static Flux<ByteBuf> thenClose(Flux<ByteBuf> records, Mono<WebSocketCloseStatus> closeStatus,
            ByteBufAllocator alloc) {
        Mono<ByteBuf> close = closeStatus
                .switchIfEmpty(Mono.just(WebSocketCloseStatus.ABNORMAL_CLOSURE))
                .flatMap(status -> {
                    if (status.code() == WebSocketCloseStatus.ABNORMAL_CLOSURE.code()) {
                        return Mono.error(new IllegalStateException("connection lost without a close frame"));
                    }
                    int code = status.code() == WebSocketCloseStatus.EMPTY.code() ? -1 : status.code();
                    return Mono.just(close(code, status.reasonText(), alloc));
                });
        return records.concatWith(close).onErrorResume(CorruptedWebSocketFrameException.class, e -> Mono.just(
                close(e.closeStatus().code(), e.closeStatus().reasonText(), alloc)));
    }

    /** A close record: the status code and reason, or an empty payload for a close without status. */
    public static ByteBuf close(int statusCode, String reason, ByteBufAllocator alloc) {
        ByteBuf payload = alloc.buffer();
        if (statusCode >= 0) {
            payload.writeShort(statusCode);
            if (reason != null && !reason.isEmpty()) {
                payload.writeCharSequence(reason, StandardCharsets.UTF_8);
            }
        }
        return record(FIN | CLOSE, payload, alloc);
    }

    private static ByteBuf record(int header, ByteBuf payload, ByteBufAllocator alloc) {
        CompositeByteBuf record = alloc.compositeBuffer(2);
        record.addComponent(true, alloc.buffer(1).writeByte(header));
        record.addComponent(true, payload);
        return record;
    }

    /**
     * Decodes one record into the frame to write to a WebSocket; takes over {@code record} (the frame
     * holds a slice of it, so the record is released when the frame is). A close record becomes a
     * {@link CloseWebSocketFrame}.
     *
     * @throws InvalidRecordException for a record that breaks section 19.2; {@code record} is released
     */
    public static WebSocketFrame toFrame(ByteBuf record) {
        try {
            if (!record.isReadable()) {
                throw new InvalidRecordException("empty WebSocket record (expected: a header byte)");
            }
            int header = record.getUnsignedByte(record.readerIndex());
            int opcode = header & 0x0F;
            boolean fin = (header & FIN) != 0;
            if ((header & 0x70) != 0) {
                throw new InvalidRecordException("WebSocket record header 0x" + Integer.toHexString(header)
                        + " (expected: reserved bits 0x70 clear)");
            }
            int length = record.readableBytes() - 1;
            if (opcode >= CLOSE) {
                if (!fin || length > MAX_CONTROL_PAYLOAD) {
                    throw new InvalidRecordException("control record of " + length + " bytes, fin=" + fin
                            + " (expected: fin and <= " + MAX_CONTROL_PAYLOAD + " bytes)");
                }
                if (opcode == CLOSE) {
                    checkClose(record, length);
                }
            }
            ByteBuf payload = record.retainedSlice(record.readerIndex() + 1, length);
            WebSocketFrame frame = switch (opcode) {
                case CONTINUATION -> new ContinuationWebSocketFrame(fin, 0, payload);
                case TEXT -> new TextWebSocketFrame(fin, 0, payload);
                case BINARY -> new BinaryWebSocketFrame(fin, 0, payload);
                case CLOSE -> new CloseWebSocketFrame(true, 0, payload);
                case PING -> new PingWebSocketFrame(payload);
                case PONG -> new PongWebSocketFrame(payload);
                default -> {
                    payload.release();
                    throw new InvalidRecordException("WebSocket record opcode 0x" + Integer.toHexString(opcode)
                            + " (expected: 0x0-0x2 or 0x8-0xA)");
                }
            };
            return frame;
        } finally {
            record.release();
        }
    }

    private static void checkClose(ByteBuf record, int length) {
        if (length == 0) {
            return;
        }
        if (length == 1) {
            throw new InvalidRecordException("close record with a 1-byte payload (expected: none, or a status code)");
        }
        int code = record.getUnsignedShort(record.readerIndex() + 1);
        if (!WebSocketCloseStatus.isValidStatusCode(code)) {
            throw new InvalidRecordException("close status " + code + " (expected: a code RFC 6455 allows on the wire)");
        }
    }

    private static int opcode(WebSocketFrame frame) {
        if (frame instanceof TextWebSocketFrame) {
            return TEXT;
        }
        if (frame instanceof BinaryWebSocketFrame) {
            return BINARY;
        }
        if (frame instanceof ContinuationWebSocketFrame) {
            return CONTINUATION;
        }
        if (frame instanceof PingWebSocketFrame) {
            return PING;
        }
        if (frame instanceof PongWebSocketFrame) {
            return PONG;
        }
        if (frame instanceof CloseWebSocketFrame) {
            return CLOSE;
        }
        throw new IllegalArgumentException("frame: " + frame.getClass().getName() + " (expected: an RFC 6455 frame)");
    }

    /** A record that breaks section 19.2: the stream is reset with {@code PROTOCOL_ERROR}. */
    public static final class InvalidRecordException extends RuntimeException {
        public InvalidRecordException(String message) {
            super(message, null, false, false);
        }
    }
}
