package io.edgetunnel.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Redis fixture for fault tests: a real redis-server that can be killed and brought back on its port. */
class RedisServerIntegrationTests {

    private RedisServer redis;

    @BeforeEach
    void start() {
        RedisServer.assumeAvailable();
        redis = RedisServer.start();
    }

    @AfterEach
    void stop() {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void answersPingOnItsLoopbackPort() throws IOException {
        assertThat(redis.url()).isEqualTo("redis://127.0.0.1:" + redis.port());
        assertThat(send("PING")).isEqualTo("+PONG\r\n");
    }

    @Test
    void isGoneAfterKillAndBackOnTheSamePortAfterRestart() throws IOException {
        int port = redis.port();

        redis.kill();

        assertThat(redis.running()).isFalse();
        assertThatThrownBy(() -> send("PING")).isInstanceOf(ConnectException.class);

        redis.restart();

        assertThat(redis.port()).isEqualTo(port);
        assertThat(send("PING")).isEqualTo("+PONG\r\n");
    }

    @Test
    void comesBackEmptyBecauseNothingIsPersisted() throws IOException {
        assertThat(send("SET", "directory-entry", "replica-1")).isEqualTo("+OK\r\n");
        assertThat(send("GET", "directory-entry")).isEqualTo("$9\r\nreplica-1\r\n");

        redis.restart();

        assertThat(send("GET", "directory-entry")).isEqualTo("$-1\r\n");
        assertThat(send("CONFIG", "GET", "appendonly")).contains("no");
    }

    /** One command as a RESP array; the reply read until it is complete (simple, error or bulk string). */
    private String send(String... args) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", redis.port())) {
            socket.setSoTimeout(3000);
            StringBuilder command = new StringBuilder("*").append(args.length).append("\r\n");
            for (String arg : args) {
                command.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n")
                        .append(arg).append("\r\n");
            }
            socket.getOutputStream().write(command.toString().getBytes(StandardCharsets.UTF_8));
            InputStream in = socket.getInputStream();
            String first = readLine(in);
            StringBuilder reply = new StringBuilder(first);
            if (first.startsWith("$") && !first.equals("$-1\r\n")) {
                reply.append(readLine(in));
            } else if (first.startsWith("*")) {
                int elements = Integer.parseInt(first.substring(1).trim());
                for (int i = 0; i < 2 * elements; i++) {
                    reply.append(readLine(in));
                }
            }
            return reply.toString();
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            line.write(c);
            if (c == '\n') {
                break;
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
