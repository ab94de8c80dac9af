package io.edgetunnel.e2e.support;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;

/**
 * A real HAProxy (from PATH, or Debian's {@code /usr/sbin}) standing in for the ALB in front of
 * ingress replicas, on random loopback ports, with its configuration in a temporary directory.
 *
 * <p>Two frontends, like the ALB's two listeners: {@link #publicPort()} (HTTP mode, round-robin
 * per request: each request of a kept-alive client connection is balanced on its own, which is
 * HAProxy's default keep-alive mode and what the ALB does; {@code http-reuse safe} shares idle
 * connections to a replica between clients, as the ALB's backend connections are shared) and
 * {@link #tunnelPort()} (agents' WebSocket upgrades, spread at random). Like the ALB, a request is
 * never retried on another replica ({@code retries 0}, no redispatch).
 *
 * <p>Each backend has the same named server slots, {@code replica1} to {@code replicaN}, that start
 * in {@code maint} (no traffic). A test points a slot at a replica with {@link #register} and moves
 * it between {@link State#READY}, {@link State#DRAIN} (no new requests or connections, open ones
 * continue: the ALB's deregistration) and {@link State#MAINT} through HAProxy's runtime API, over
 * its unix socket. With a health path, each slot is checked as the target groups check the
 * replicas (HTTP GET on the management port, 200 expected; faster than the ALB's 10 s), so a
 * replica that is not ready gets no new traffic. Unlike the ALB, HAProxy puts a slot leaving
 * maint in service at once, before its first check: register a replica once it is ready.
 */
public final class HaproxyBalancer implements AutoCloseable {

    /** A slot's administrative state ({@code set server <backend>/<slot> state ...}). */
    public enum State {
        READY,
        DRAIN,
        MAINT
    }

    /**
     * Where a slot sends traffic: the replica's public port, its tunnel port, and the port its
     * health checks go to (the management port).
     */
    public record Target(int publicPort, int tunnelPort, int healthPort) {
        public Target {
            checkPort("publicPort", publicPort);
            checkPort("tunnelPort", tunnelPort);
            checkPort("healthPort", healthPort);
        }

        private static void checkPort(String name, int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(name + ": " + port + " (expected: 1..65535)");
            }
        }
    }

    private static final List<String> BACKENDS = List.of("public", "tunnel");
    private static final String INSTALL_HINT =
            "haproxy not found on PATH or in /usr/sbin (Debian/Ubuntu: apt-get install haproxy; .ci/run installs it)";

    private final ServerProcess process;
    private final int slots;
    private final int publicPort;
    private final int tunnelPort;

    private HaproxyBalancer(ServerProcess process, int slots, int publicPort, int tunnelPort) {
        this.process = process;
        this.slots = slots;
        this.publicPort = publicPort;
        this.tunnelPort = tunnelPort;
    }

    /** Whether an {@code haproxy} binary exists here. */
    public static boolean available() {
        return ServerProcess.find("haproxy").isPresent();
    }

    /**
     * Skips the calling test, saying so on stderr as well, where no {@code haproxy} exists; fails it under
     * CI, which installs the server.
     */
    public static void assumeAvailable() {
        ServerProcess.requireUnderCi(available(), INSTALL_HINT);
        if (!available()) {
            System.err.println("SKIPPED: " + INSTALL_HINT);
        }
        Assumptions.assumeTrue(available(), INSTALL_HINT);
    }

    /** {@code slots} slots in maint, no health checks. */
    public static HaproxyBalancer start(int slots) {
        return start(slots, null);
    }

    /**
     * {@code slots} slots in maint; with a {@code healthPath} (e.g. {@code
     * /actuator/health/readiness}) every slot is health-checked on its target's health port.
     */
    public static HaproxyBalancer start(int slots, String healthPath) {
        if (slots < 1 || slots > 64) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: 1..64)");
        }
        if (healthPath != null && !healthPath.startsWith("/")) {
            throw new IllegalArgumentException("healthPath: " + healthPath + " (expected: starting with /)");
        }
        Path binary = ServerProcess.find("haproxy").orElseThrow(() -> new IllegalStateException(INSTALL_HINT));
        // A free port found here can be taken by someone else before HAProxy binds it: try again then.
        IllegalStateException failure = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int publicPort = ServerProcess.freePort();
            int tunnelPort = ServerProcess.freePort();
            ServerProcess process = ServerProcess.tempDir("haproxy-");
            try {
                Path socket = process.dir().resolve("admin.sock");
                Path config = process.dir().resolve("haproxy.cfg");
                Files.writeString(config, config(slots, healthPath, socket, publicPort, tunnelPort));
                process.start(List.of(binary.toString(), "-db", "-f", config.toString()));
                HaproxyBalancer balancer = new HaproxyBalancer(process, slots, publicPort, tunnelPort);
                process.awaitUp("haproxy", () -> socketAnswers(socket)
                        && ServerProcess.listening(publicPort)
                        && ServerProcess.listening(tunnelPort));
                return balancer;
            } catch (IOException | RuntimeException e) {
                failure = new IllegalStateException("haproxy did not start: " + e.getMessage() + "\n" + process.output(), e);
                process.close();
            }
        }
        throw failure;
    }

    private static boolean socketAnswers(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try {
            return HaproxyRuntimeClient.send(UnixDomainSocketAddress.of(socket), "show info")
                    .contains("Name: HAProxy");
        } catch (IOException e) {
            return false;
        }
    }

    private static String config(int slots, String healthPath, Path socket, int publicPort, int tunnelPort) {
        StringBuilder cfg = new StringBuilder();
        cfg.append("""
                global
                    stats socket unix@%s mode 600 level admin
                    stats timeout 30s

                defaults
                    mode http
                    timeout connect 1s
                    timeout http-request 10s
                    # the ALB's idle timeout (AlbIdleTimeoutSeconds in deploy/cloudformation/ingress.yaml)
                    timeout client 120s
                    timeout server 120s
                    timeout tunnel 120s
                    # the ALB sends a request to one target and answers 502 when it fails, no retry elsewhere
                    retries 0
                """.formatted(socket));
        String check = "";
        if (healthPath != null) {
            cfg.append("""
                        option httpchk GET %s
                        http-check expect status 200
                        # the target groups' timeout and unhealthy threshold (deploy/cloudformation/ingress.yaml:
                        # 5 s, 3); only the interval is shorter. A replica answering readiness slowly on a
                        # loaded machine is not down: with 1 s and 2, ClusterRollingDeployIntegrationTests got
                        # HAProxy's own 503 (no server up) under a load average of 14 on 2 cores
                        timeout check 5s
                        default-server inter 250ms rise 2 fall 3
                    """.formatted(healthPath));
            check = " check";
        }
        cfg.append("""

                frontend public
                    bind 127.0.0.1:%d
                    option forwardfor
                    http-request set-header X-Forwarded-Proto http
                    http-request set-header X-Forwarded-Port %d
                    default_backend public

                backend public
                    balance roundrobin
                    http-reuse safe
                """.formatted(publicPort, publicPort));
        appendSlots(cfg, slots, check);
        cfg.append("""

                frontend tunnel
                    bind 127.0.0.1:%d
                    default_backend tunnel

                backend tunnel
                    balance random
                """.formatted(tunnelPort));
        appendSlots(cfg, slots, check);
        return cfg.toString();
    }

    // port 1: nothing listens there; the slot is in maint until a test registers a replica
    private static void appendSlots(StringBuilder cfg, int slots, String check) {
        for (int slot = 1; slot <= slots; slot++) {
            cfg.append("    server ").append(slotName(slot)).append(" 127.0.0.1:1").append(check).append(" disabled\n");
        }
    }

    private static String slotName(int slot) {
        return "replica" + slot;
    }

    public int publicPort() {
        return publicPort;
    }

    public String publicUrl() {
        return "http://127.0.0.1:" + publicPort;
    }

    public int tunnelPort() {
        return tunnelPort;
    }

    /** What agents dial: {@code ws://127.0.0.1:<tunnel port>/tunnel}. */
    public String tunnelUri() {
        return "ws://127.0.0.1:" + tunnelPort + "/tunnel";
    }

    public int slots() {
        return slots;
    }

    /** Points a slot at a replica (both backends) and puts it in service: the ALB's registration. */
    public void register(int slot, Target target) {
        point(slot, target);
        state(slot, State.READY);
    }

    /** Points a slot at a replica in both backends, leaving its state as it is. */
    public void point(int slot, Target target) {
        requireNonNull(target, "target");
        String name = slotName(checkSlot(slot));
        expectEmpty(command("set server public/" + name + " check-port " + target.healthPort()));
        expectEmpty(command("set server tunnel/" + name + " check-port " + target.healthPort()));
        // HAProxy answers a sentence about what changed; an error names the server or the syntax
        expectNoError(command("set server public/" + name + " addr 127.0.0.1 port " + target.publicPort()));
        expectNoError(command("set server tunnel/" + name + " addr 127.0.0.1 port " + target.tunnelPort()));
    }

    /** Sets a slot's state in both backends (a deregistration drains both target groups at once). */
    public void state(int slot, State state) {
        requireNonNull(state, "state");
        for (String backend : BACKENDS) {
            state(backend, slot, state);
        }
    }

    /** Sets a slot's state in one backend ({@code public} or {@code tunnel}). */
    public void state(String backend, int slot, State state) {
        requireNonNull(state, "state");
        expectEmpty(command("set server " + checkBackend(backend) + "/" + slotName(checkSlot(slot)) + " state "
                + state.name().toLowerCase(Locale.ROOT)));
    }

    public void ready(int slot) {
        state(slot, State.READY);
    }

    public void drain(int slot) {
        state(slot, State.DRAIN);
    }

    public void maint(int slot) {
        state(slot, State.MAINT);
    }

    /** Whether the slot is operationally up (its checks pass, or it has none) in that backend. */
    public boolean up(String backend, int slot) {
        String name = slotName(checkSlot(slot));
        // "show servers state <backend>": be_id be_name srv_id srv_name srv_addr srv_op_state ...
        for (String line : command("show servers state " + checkBackend(backend)).split("\n")) {
            String[] fields = line.trim().split(" ");
            if (fields.length > 5 && fields[3].equals(name)) {
                return fields[5].equals("2"); // SRV_ST_RUNNING
            }
        }
        throw new IllegalStateException("no server " + backend + "/" + name + " in HAProxy's state listing");
    }

    /**
     * Requests and connections the slot is serving now in that backend ({@code scur} of {@code show
     * stat}); idle pooled connections do not count. Zero is what the ALB calls a target UNUSED, when
     * a deregistration completes early.
     */
    public int sessions(String backend, int slot) {
        String name = slotName(checkSlot(slot));
        String checked = checkBackend(backend);
        // CSV: pxname,svname,qcur,qmax,scur,...
        for (String line : command("show stat").split("\n")) {
            String[] fields = line.split(",");
            if (fields.length > 4 && fields[0].equals(checked) && fields[1].equals(name)) {
                return Integer.parseInt(fields[4]);
            }
        }
        throw new IllegalStateException("no server " + backend + "/" + name + " in HAProxy's statistics");
    }

    /** Sends one command to HAProxy's runtime API and returns its answer. */
    public String command(String command) {
        requireNonNull(command, "command");
        try {
            return HaproxyRuntimeClient.send(UnixDomainSocketAddress.of(process.dir().resolve("admin.sock")), command);
        } catch (IOException e) {
            throw new IllegalStateException("haproxy runtime API: " + command + ": " + e.getMessage()
                    + "\n" + process.output(), e);
        }
    }

    /** HAProxy's own output so far (alerts, health-check transitions). */
    public String output() {
        return process.output();
    }

    /** Kills HAProxy and deletes its directory. */
    @Override
    public void close() {
        process.close();
    }

    private int checkSlot(int slot) {
        if (slot < 1 || slot > slots) {
            throw new IllegalArgumentException("slot: " + slot + " (expected: 1.." + slots + ")");
        }
        return slot;
    }

    private static String checkBackend(String backend) {
        if (!BACKENDS.contains(backend)) {
            throw new IllegalArgumentException("backend: " + backend + " (expected: one of " + BACKENDS + ")");
        }
        return backend;
    }

    private static void expectEmpty(String answer) {
        if (!answer.isBlank()) {
            throw new IllegalStateException("haproxy runtime API: " + answer.strip());
        }
    }

    private static void expectNoError(String answer) {
        String lower = answer.toLowerCase(Locale.ROOT);
        if (lower.contains("no such") || lower.contains("expects") || lower.contains("error") || lower.contains("unknown")) {
            throw new IllegalStateException("haproxy runtime API: " + answer.strip());
        }
    }
}
