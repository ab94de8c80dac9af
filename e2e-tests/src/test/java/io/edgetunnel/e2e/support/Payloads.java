package io.edgetunnel.e2e.support;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.security.MessageDigest;
import java.util.HexFormat;
import reactor.core.publisher.Flux;

/**
 * Deterministic, position-dependent test bodies: byte {@code i} is a function of {@code i}, so a
 * reordered, duplicated or foreign chunk changes the checksum.
 */
public final class Payloads {

    private Payloads() {}

    public static byte byteAt(long position, long seed) {
        long x = position * 0x9E3779B97F4A7C15L + seed;
        x ^= (x >>> 29);
        return (byte) x;
    }

    public static Flux<ByteBuf> stream(long size, int chunk) {
        return stream(size, chunk, 0);
    }

    public static Flux<ByteBuf> stream(long size, int chunk, long seed) {
        long chunks = (size + chunk - 1) / chunk;
        return Flux.range(0, (int) chunks).map(i -> {
            long start = (long) i * chunk;
            int length = (int) Math.min(chunk, size - start);
            byte[] bytes = new byte[length];
            for (int j = 0; j < length; j++) {
                bytes[j] = byteAt(start + j, seed);
            }
            return Unpooled.wrappedBuffer(bytes);
        });
    }

    public static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = byteAt(i, seed);
        }
        return bytes;
    }

    public static String sha256(long size, long seed) {
        MessageDigest digest = UpstreamApp.sha256();
        byte[] buffer = new byte[64 * 1024];
        for (long start = 0; start < size; start += buffer.length) {
            int length = (int) Math.min(buffer.length, size - start);
            for (int j = 0; j < length; j++) {
                buffer[j] = byteAt(start + j, seed);
            }
            digest.update(buffer, 0, length);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(UpstreamApp.sha256().digest(bytes));
    }
}
