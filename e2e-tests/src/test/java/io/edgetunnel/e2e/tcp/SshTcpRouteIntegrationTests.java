package io.edgetunnel.e2e.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgetunnel.e2e.support.AgentNode;
import io.edgetunnel.e2e.support.FreePorts;
import io.edgetunnel.e2e.support.IngressNode;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.testsupport.NoLeaks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real OpenSSH server (its own host key and authorized_keys in a temporary directory, on a random
 * loopback port) published as a TCP route: the real {@code ssh} runs a command through the ingress's
 * TCP listener, {@code scp} moves 256 MiB each way with checksums intact, and an idle session kept
 * alive by ssh's own keepalives outlives the route's idle timeout.
 */
@ExtendWith(NoLeaks.class)
class SshTcpRouteIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final String HINT = "Debian/Ubuntu: apt-get install openssh-server openssh-client; .ci/run installs them";
    private static final int BULK = 256 * 1024 * 1024;

    private static Path dir;
    private static Process sshd;
    private static int sshdPort;
    private static IngressNode ingress;
    private static AgentNode agent;

    @BeforeAll
    static void start() throws Exception {
        Tools.assumeInstalled(HINT, "sshd", "ssh", "scp", "ssh-keygen");
        dir = Files.createTempDirectory("tcp-ssh-");
        dir.toFile().setReadable(false, false);
        dir.toFile().setReadable(true, true);
        keygen("host_key");
        keygen("user_key");
        Files.copy(dir.resolve("user_key.pub"), dir.resolve("authorized_keys"));
        sshdPort = FreePorts.take(1)[0];
        Files.writeString(dir.resolve("sshd_config"), String.join("\n",
                "ListenAddress 127.0.0.1",
                "Port " + sshdPort,
                "HostKey " + dir.resolve("host_key"),
                "PidFile " + dir.resolve("sshd.pid"),
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "Subsystem sftp internal-sftp",
                "PrintMotd no",
                "LogLevel ERROR",
                ""));
        // sshd re-executes itself by absolute path and wants its privilege separation directory
        Files.createDirectories(Path.of("/run/sshd"));
        sshd = new ProcessBuilder(Tools.find("sshd").orElseThrow().toString(), "-D", "-e", "-f",
                dir.resolve("sshd_config").toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("sshd.log").toFile())
                .start();
        await().atMost(Duration.ofSeconds(30)).until(() -> listening(sshdPort) || !sshd.isAlive());
        assertThat(sshd.isAlive()).as("sshd: %s", Files.readString(dir.resolve("sshd.log"))).isTrue();
        ingress = IngressNode.start("ingress.tcp.address=127.0.0.1",
                "ingress.tcp.listeners=ssh=0,ssh-idle=0;idle-timeout=8s");
        agent = AgentNode.start(ingress, "ssh-agent", Map.of(),
                "agent.tcp-routes=ssh=127.0.0.1:" + sshdPort + ";health-check.interval=1s,"
                        + "ssh-idle=127.0.0.1:" + sshdPort + ";health-check.interval=1s");
        TcpRouteIntegrationTests.awaitHealthy(ingress, agent, "ssh-agent", "ssh", "ssh-idle");
    }

    @AfterAll
    static void stop() throws IOException {
        if (agent != null) {
            agent.close();
        }
        if (ingress != null) {
            ingress.close();
        }
        if (sshd != null) {
            sshd.destroyForcibly();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void keygen(String name) throws Exception {
        Tools.Result result = Tools.run(TIMEOUT, List.of(Tools.find("ssh-keygen").orElseThrow().toString(),
                "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve(name).toString()));
        assertThat(result.exitCode()).as(result.output()).isZero();
    }

    private static int port(String route) {
        return ingress.context().getBean(TcpServers.class).port(route);
    }

    private static String user() {
        return System.getProperty("user.name");
    }

    /** Client options: our key, no host key bookkeeping, never a prompt. */
    private static List<String> options() {
        return List.of("-F", "/dev/null", "-i", dir.resolve("user_key").toString(),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR");
    }

    private static List<String> ssh(String route, String... command) {
        List<String> line = new ArrayList<>(List.of(Tools.find("ssh").orElseThrow().toString()));
        line.addAll(options());
        line.addAll(List.of("-p", Integer.toString(port(route)), user() + "@127.0.0.1"));
        line.addAll(List.of(command));
        return line;
    }

    @Test
    void sshRunsACommandThroughTheTunnel() throws Exception {
        Tools.Result result = Tools.run(TIMEOUT, ssh("ssh", "echo", "hello-from-sshd"));
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output().trim()).isEqualTo("hello-from-sshd");
    }

    @Test
    void scpMovesTwoHundredFiftySixMebibytesEachWayIntact() throws Exception {
        Path original = dir.resolve("original.bin");
        writeRandom(original, BULK);
        Path uploaded = dir.resolve("uploaded.bin");
        Path downloaded = dir.resolve("downloaded.bin");
        String remote = user() + "@127.0.0.1:";
        Tools.Result up = Tools.run(TIMEOUT, scp(original.toString(), remote + uploaded));
        assertThat(up.exitCode()).as(up.output()).isZero();
        Tools.Result down = Tools.run(TIMEOUT, scp(remote + uploaded, downloaded.toString()));
        assertThat(down.exitCode()).as(down.output()).isZero();
        String sum = sha256(original);
        assertThat(sha256(uploaded)).isEqualTo(sum);
        assertThat(sha256(downloaded)).isEqualTo(sum);
        for (Path file : List.of(original, uploaded, downloaded)) {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void anIdleSessionKeptAliveBySshOutlivesTheRoutesIdleTimeout() throws Exception {
        // 8 s without bytes would end it; ssh's keepalive every second keeps bytes moving for 12 s
        List<String> command = new ArrayList<>(ssh("ssh-idle", "sleep", "12", "&&", "echo", "still-here"));
        command.addAll(1, List.of("-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=30"));
        Tools.Result result = Tools.run(TIMEOUT, command);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output().trim()).isEqualTo("still-here");
    }

    private static List<String> scp(String from, String to) {
        List<String> line = new ArrayList<>(List.of(Tools.find("scp").orElseThrow().toString()));
        line.addAll(options());
        line.addAll(List.of("-P", Integer.toString(port("ssh")), from, to));
        return line;
    }

    private static void writeRandom(Path file, int size) throws IOException {
        Random random = new Random(256);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int written = 0; written < size; written += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk);
            }
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
