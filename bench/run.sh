#!/usr/bin/env bash
# edge-tunnel benchmark harness (issue 7; documented in docs/benchmarks.md).
#
# Runs the same load, in the same run, against five targets on loopback:
#   direct  - the upstream nginx itself
#   nginx   - a second nginx as a one-hop reverse proxy (keepalive pool to the upstream)
#   ssh     - an OpenSSH reverse tunnel (ssh -R to a private sshd on a loopback port)
#   jvm     - bench/JvmHop.java: a bare one-hop Reactor Netty proxy in one JVM (the tunnel's stack,
#             no tunnel, no Spring), the reference for what one hop of that stack costs here
#   tunnel  - our ingress-service + edge-agent
# and writes bench/results/latest.json (the last one kept as previous.json) and latest.png.
#
# Cases: small-c1, small-c50, small-c256, small-c1024, 1mib-c16 (wrk, every target; each JVM's and
# proxy's CPU per request next to req/s), download-1gib,
# upload-1gib (curl, every target), churn, idle-agents, codec (the tunnel alone), and
#   cluster - two ingress replicas sharing a private redis-server (issue 13): the tunnel target's
#             ingress is replica 1 (clustering on) and holds the agent; replica 2 has no agent and
#             forwards every request for bench.local to replica 1 over the cluster port. Measures
#             small at c50 against replica 1 (local), against replica 2 (forwarded) and 25+25 at
#             both at once (mix); target: forwarded >= 0.7x local req/s, added p99 < 2 ms.
#   tcp-1gib - (issue 17) a TCP route: TRANSFER_MIB (1 GiB) through the ingress's TCP listener and the
#             agent's tcp route vs through `ssh -L` to the same local TCP source (bench/tcp_bench.py),
#             MB/s (the median of TCP_ROUNDS transfers each, taking turns, after an unmeasured
#             warm-up transfer each), then short connections in a row for the load duration (connections/s);
#             target: tunnel >= 1.2x ssh for the bulk transfer.
#   footprint - (issue 15, bench/footprint.sh) agent and ingress RSS idle, under c50 and during a
#             256 MiB download, start-to-ready, with their images' JVM options (agent as in a 128 MiB
#             container) against the JVM's defaults, and OpenSSH's client RSS as the reference.
#
# usage: bench/run.sh [--quick] [--cases LIST] [--duration S] [--no-jmh] [--keep-workdir]
#   --quick         same cases, shorter (whole run well under 10 minutes)
#   --cases LIST    comma-separated subset, e.g. small-c50,download-1gib,idle-agents,churn,codec,cluster
#   --duration S    seconds per load case (overrides the default of the mode)
#   --no-jmh        same as leaving "codec" out of --cases
#   --keep-workdir  leave the temp dir (configs, logs) behind for inspection
# Environment overrides: BENCH_JVM_FLAGS, BENCH_NGINX_WORKERS, BENCH_IDLE_AGENTS,
#   BENCH_TRANSFER_MIB, BENCH_INGRESS_ARGS, BENCH_AGENT_ARGS, BENCH_SKIP_TUNNEL=1, BENCH_SKIP_JVM=1,
#   BENCH_INGRESS_JAR / BENCH_AGENT_JAR (use these jars instead of the ones under */target),
#   BENCH_FOOTPRINT_VARIANTS, BENCH_FOOTPRINT_WARMUP, BENCH_FOOTPRINT_DURATION, BENCH_FOOTPRINT_CGROUP=off,
#   BENCH_FOOTPRINT_QUIET_IDLE / BENCH_FOOTPRINT_QUIET_MAX (idle CPU % awaited before each start, for at most s) (bench/footprint.sh),
#   BENCH_PROFILE=cpu|alloc|wall (async-profiler flame graphs and collapsed stacks of the tunnel's two JVMs during the
#   measured load of BENCH_PROFILE_CASES, default small-c50,small-c256, written to
#   bench/results/profiles/; see docs/perf/README.md), BENCH_COUNTERS=1 (syscalls and context
#   switches per request of every target's processes, perf stat; on with BENCH_PROFILE).
# With "cluster" among the cases the tunnel target's ingress runs with clustering on in every case
# (a local agent is still served locally; only the cluster case sends requests to replica 2).
#
# Every process it starts is killed on exit; all traffic stays on 127.0.0.1; every load run is
# bounded in time and connections.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
RESULTS=$BENCH_DIR/results
VERSION=0.1.0-SNAPSHOT
ALL_CASES="small-c1,small-c50,small-c256,small-c1024,1mib-c16,download-1gib,upload-1gib,tcp-1gib,idle-agents,churn,codec,cluster,footprint"

QUICK=0
CASES=$ALL_CASES
DURATION=""
KEEP_WORKDIR=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --cases) CASES=$2; shift ;;
        --cases=*) CASES=${1#*=} ;;
        --duration) DURATION=$2; shift ;;
        --duration=*) DURATION=${1#*=} ;;
        --no-jmh) CASES=$(echo ",$CASES," | sed 's/,codec,/,/; s/^,//; s/,$//') ;;
        --keep-workdir) KEEP_WORKDIR=1 ;;
        -h|--help) awk 'NR == 1 { next } /^#/ { print; next } { exit }' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    MODE=quick
    : "${DURATION:=4}"
    WARMUP=2
    # the JVMs' C2 compiler needs about a minute of load on 2 cores before throughput settles
    # (measured: 2k req/s after 5 s of warm-up, 8k after 60 s); nginx and sshd need none; the jvm
    # target gets the same as the tunnel, so the two JVM targets compare
    TUNNEL_WARMUP=45
    # and again at each case's own concurrency: moving from c50 to c1 makes C2 recompile the hot
    # paths for the new shape (measured: 1.4-3.9 s of compiler CPU per 5 s of c1 load after a 30 s
    # c50 warm-up, which showed as a 3x worse c1 p99)
    CASE_WARMUP_C1=10
    CASE_WARMUP=3
    TRANSFER_MIB=${BENCH_TRANSFER_MIB:-256}
    TCP_ROUNDS=1
    TCP_WARMUP_S=3
    IDLE_AGENTS=${BENCH_IDLE_AGENTS:-1000}
    JMH_ARGS=(-wi 2 -i 3 -w 500ms -r 1s -f 1)
else
    MODE=full
    : "${DURATION:=12}"
    WARMUP=5
    TUNNEL_WARMUP=75
    CASE_WARMUP_C1=20
    CASE_WARMUP=5
    TRANSFER_MIB=${BENCH_TRANSFER_MIB:-1024}
    # the median of five, the tunnel and ssh -L taking turns: one 1 GiB transfer lasts about a second
    # (single runs of one build measured 0.81x and 0.91x ssh), after 30 s of unmeasured 1 GiB transfers
    # each, in which the JVMs compile the TCP path, as the HTTP cases get TUNNEL_WARMUP (measured on
    # fresh JVMs: 2 GiB of warm-up left them climbing from 792 to 1,467 MB/s over the five rounds while
    # ssh -L held 1,270-1,410; after ten 1 GiB transfers the next one still compiled ~100 methods, 0.6 s
    # of compiler time on these 2 cores, and only some 15-20 transfers in did they level off)
    TCP_ROUNDS=5
    TCP_WARMUP_S=30
    IDLE_AGENTS=${BENCH_IDLE_AGENTS:-10000}
    JMH_ARGS=(-wi 3 -i 5 -w 1s -r 2s -f 1)
fi
# Fixed heap so runs compare; G1 is what the JVM picks on this machine anyway; a missed memory
# target should show as numbers, not as a crash, so the idle-agents ingress gets more room.
JVM_FLAGS=${BENCH_JVM_FLAGS:-"-Xms512m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError"}
IDLE_JVM_FLAGS="-Xms1g -Xmx2g -XX:+UseG1GC"
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-auto}
HOST_HEADER=bench.local
TARGETS=(direct nginx ssh jvm tunnel)

has_case() { case ",$CASES," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ tools
ensure_tools() {
    local missing=() apt_updated=0
    command -v nginx >/dev/null 2>&1 || missing+=(nginx)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
    command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
    command -v gnuplot >/dev/null 2>&1 || missing+=(gnuplot-nox)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    command -v jcmd >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
    if has_case cluster; then command -v redis-server >/dev/null 2>&1 || missing+=(redis-server); fi
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
            die "missing tools (${missing[*]}); install them or run as root"
        fi
        log "installing ${missing[*]}"
        if [ "$apt_updated" = 0 ]; then apt-get update -q >/dev/null; apt_updated=1; fi
        # packages must not start their own nginx/sshd on the standard ports
        local policy_added=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            policy_added=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
        if [ "$policy_added" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    fi
}

# ------------------------------------------------------------------ process bookkeeping
PIDS=()
WORK=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    # the footprint case's memory cgroups (bench/memcg.sh), empty now that their processes are gone
    ! declare -F memcg_cleanup >/dev/null || memcg_cleanup
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "$KEEP_WORKDIR" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bg NAME CMD...: starts CMD in the background, logs to $WORK/logs/NAME.log, records its pid.
bg() {
    local name=$1
    shift
    "$@" >"$WORK/logs/$name.log" 2>&1 &
    PIDS+=("$!")
    LAST_PID=$!
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS [PID]: until URL answers 2xx (and, for actuator health, says UP).
wait_http() {
    local url=$1 secs=$2 pid=${3:-} deadline body
    deadline=$((SECONDS + secs))
    while [ $SECONDS -lt $deadline ]; do
        if body=$(curl -fsS --max-time 2 -H "Host: $HOST_HEADER" "$url" 2>/dev/null); then
            case "$url" in
                */actuator/health*) case "$body" in *'"UP"'*) return 0 ;; esac ;;
                *) return 0 ;;
            esac
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
        sleep 0.3
    done
    return 1
}

# ------------------------------------------------------------------ fixtures
make_bodies() {
    mkdir -p "$WORK/www"
    head -c 99 /dev/zero | tr '\0' 'x' >"$WORK/www/small"
    echo >>"$WORK/www/small" # 100 bytes
    head -c $((1024 * 1024)) /dev/urandom >"$WORK/www/1mib"
    # sparse: costs no disk, reads as zeros from the page cache
    truncate -s $((TRANSFER_MIB * 1024 * 1024)) "$WORK/www/big"
    # the transfer warm-up's file: the JIT needs rounds, not bytes, so 256 MiB in every mode
    truncate -s $((256 * 1024 * 1024)) "$WORK/www/warm"
    # read once so the first target measured does not pay for filling the page cache
    cat "$WORK/www/big" "$WORK/www/warm" >/dev/null
}

start_upstream() {
    UP_PORT=$(free_port)
    SINK_PORT=$(free_port)
    mkdir -p "$WORK/nginx-up"
    cat >"$WORK/nginx-up.conf" <<EOF
# upstream: serves the fixed bodies; /upload is proxied, unbuffered, to the discarding sink
user root;
worker_processes $NGINX_WORKERS;
daemon off;
pid $WORK/nginx-up.pid;
error_log $WORK/logs/nginx-up.error.log warn;
events { worker_connections 8192; multi_accept on; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    default_type application/octet-stream;
    client_body_temp_path $WORK/nginx-up/body;
    proxy_temp_path $WORK/nginx-up/proxy;
    fastcgi_temp_path $WORK/nginx-up/fastcgi;
    uwsgi_temp_path $WORK/nginx-up/uwsgi;
    scgi_temp_path $WORK/nginx-up/scgi;
    upstream sink { server 127.0.0.1:$SINK_PORT; keepalive 16; }
    server {
        listen 127.0.0.1:$UP_PORT backlog=4096;
        root $WORK/www;
        location / { }
        location = /upload {
            client_max_body_size 0;
            proxy_request_buffering off;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://sink;
        }
    }
}
EOF
    bg upload-sink python3 "$BENCH_DIR/upload-sink.py" "$SINK_PORT"
    bg nginx-up nginx -e "$WORK/logs/nginx-up.error.log" -p "$WORK/nginx-up" -c "$WORK/nginx-up.conf"
    wait_http "http://127.0.0.1:$UP_PORT/small" 20 "$LAST_PID" || die "upstream nginx did not start (see logs)"
}

start_nginx_hop() {
    HOP_PORT=$(free_port)
    mkdir -p "$WORK/nginx-hop"
    cat >"$WORK/nginx-hop.conf" <<EOF
# one-hop reverse proxy to the upstream, as an operator would run it: keepalive pool upstream,
# response buffering on but in memory only, request bodies streamed
user root;
worker_processes $NGINX_WORKERS;
daemon off;
pid $WORK/nginx-hop.pid;
error_log $WORK/logs/nginx-hop.error.log warn;
events { worker_connections 8192; multi_accept on; }
http {
    access_log off;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    client_body_temp_path $WORK/nginx-hop/body;
    proxy_temp_path $WORK/nginx-hop/proxy;
    fastcgi_temp_path $WORK/nginx-hop/fastcgi;
    uwsgi_temp_path $WORK/nginx-hop/uwsgi;
    scgi_temp_path $WORK/nginx-hop/scgi;
    upstream up { server 127.0.0.1:$UP_PORT; keepalive 512; keepalive_requests 10000000; }
    server {
        listen 127.0.0.1:$HOP_PORT backlog=4096;
        location / {
            client_max_body_size 0;
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_request_buffering off;
            proxy_max_temp_file_size 0;
        }
    }
}
EOF
    bg nginx-hop nginx -e "$WORK/logs/nginx-hop.error.log" -p "$WORK/nginx-hop" -c "$WORK/nginx-hop.conf"
    PROCS_OF[nginx]="nginx=$LAST_PID"
    wait_http "http://127.0.0.1:$HOP_PORT/small" 20 "$LAST_PID" || die "nginx hop did not start (see logs)"
}

SSH_CIPHER=default
start_ssh() {
    SSHD_PORT=$(free_port)
    SSH_PORT=$(free_port)
    mkdir -p "$WORK/ssh" /run/sshd
    chmod 700 "$WORK/ssh"
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/user_key"
    cp "$WORK/ssh/user_key.pub" "$WORK/ssh/authorized_keys"
    cat >"$WORK/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $WORK/ssh/host_key
PidFile $WORK/ssh/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
GatewayPorts no
X11Forwarding no
PrintMotd no
MaxStartups 10:30:100
LogLevel ERROR
EOF
    /usr/sbin/sshd -t -f "$WORK/ssh/sshd_config" || die "sshd config rejected"
    bg sshd /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
    local sshd_pid=$LAST_PID
    local ssh_opts=(-F /dev/null -N -T -i "$WORK/ssh/user_key" -p "$SSHD_PORT"
        -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
        -o ExitOnForwardFailure=yes -o Compression=no -o LogLevel=ERROR)
    # AES-GCM where the CPU has AES-NI: the fastest cipher OpenSSH offers, i.e. ssh at its best
    if grep -qw aes /proc/cpuinfo; then
        SSH_CIPHER=aes128-gcm@openssh.com
        ssh_opts+=(-c "$SSH_CIPHER")
    fi
    SSH_OPTS=("${ssh_opts[@]}")
    sleep 0.3
    bg ssh-R ssh "${ssh_opts[@]}" -R "127.0.0.1:$SSH_PORT:127.0.0.1:$UP_PORT" root@127.0.0.1
    SSH_CLIENT_PID=$LAST_PID
    # sshd's session child does the server half of the tunnel; the client the other half
    PROCS_OF[ssh]="sshd=$sshd_pid ssh=$SSH_CLIENT_PID"
    wait_http "http://127.0.0.1:$SSH_PORT/small" 20 "$LAST_PID" || die "ssh -R tunnel did not come up (see logs)"
}

find_jar() { # find_jar MODULE: the Spring Boot executable jar, -exec classifier first
    local m=$1 j
    for j in "$ROOT/$m/target/$m-$VERSION-exec.jar" "$ROOT/$m/target/$m-$VERSION.jar"; do
        if [ -f "$j" ] && python3 - "$j" <<'PY' 2>/dev/null; then
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
sys.exit(0 if any(n.startswith("org/springframework/boot/loader/") for n in names) else 1)
PY
            echo "$j"
            return 0
        fi
    done
    return 1
}

JVM_STATUS=pending
# start_jvm_hop: the jvm target, on the bench/jmh classpath (Reactor Netty, no Spring), tunnel JVM flags
start_jvm_hop() {
    if [ "${BENCH_SKIP_JVM:-0}" = 1 ]; then JVM_STATUS="skipped: BENCH_SKIP_JVM=1"; return 1; fi
    if ! ensure_bench_classpath; then
        JVM_STATUS="failed: could not build the bench/jmh classpath (see logs/mvn-bench.log)"
        return 1
    fi
    JVM_HOP_PORT=$(free_port)
    # one event loop per core, the services' default (shared-runtime EventLoopSizing), where Reactor
    # Netty alone would start at least four
    # shellcheck disable=SC2086 # JVM flags are a word list on purpose
    bg jvm-hop java $JVM_FLAGS -Dreactor.netty.ioWorkerCount="$(nproc)" -cp "$BENCH_CP" "$BENCH_DIR/JvmHop.java" \
        --port "$JVM_HOP_PORT" --upstream "http://127.0.0.1:$UP_PORT"
    JVM_HOP_PID=$LAST_PID
    PROCS_OF[jvm]="jvm=$JVM_HOP_PID"
    # the JVM compiles the source file first
    if ! wait_http "http://127.0.0.1:$JVM_HOP_PORT/small" 120 "$JVM_HOP_PID"; then
        JVM_STATUS="failed: bench/JvmHop.java did not answer GET /small within 120 s (see logs/jvm-hop.log)"
        tail -n 20 "$WORK/logs/jvm-hop.log" >&2 || true
        return 1
    fi
    JVM_STATUS=ok
}

TUNNEL_STATUS=pending
ensure_jars() {
    if [ "${BENCH_SKIP_TUNNEL:-0}" = 1 ]; then TUNNEL_STATUS="skipped: BENCH_SKIP_TUNNEL=1"; return 1; fi
    if [ -n "${BENCH_INGRESS_JAR:-}" ] || [ -n "${BENCH_AGENT_JAR:-}" ]; then
        INGRESS_JAR=${BENCH_INGRESS_JAR:-} AGENT_JAR=${BENCH_AGENT_JAR:-}
        if [ -f "$INGRESS_JAR" ] && [ -f "$AGENT_JAR" ]; then return 0; fi
        TUNNEL_STATUS="skipped: BENCH_INGRESS_JAR/BENCH_AGENT_JAR do not both name files"
        return 1
    fi
    if INGRESS_JAR=$(find_jar ingress-service) && AGENT_JAR=$(find_jar edge-agent); then return 0; fi
    log "service jars missing; building them (./mvnw -B -q -o package -DskipTests -pl ingress-service,edge-agent -am)"
    if ! (cd "$ROOT" && ./mvnw -B -q -o package -DskipTests -pl ingress-service,edge-agent -am) \
        >"$WORK/logs/mvn-package.log" 2>&1; then
        # the benchmark needs no tests: a test source that does not compile yet must not stop it
        log "build failed; retrying without compiling tests (-Dmaven.test.skip=true)"
        if ! (cd "$ROOT" && ./mvnw -B -q -o package -Dmaven.test.skip=true -pl ingress-service,edge-agent -am) \
            >>"$WORK/logs/mvn-package.log" 2>&1; then
            log "build failed (tail of the log):"
            tail -n 15 "$WORK/logs/mvn-package.log" >&2 || true
        fi
    fi
    if INGRESS_JAR=$(find_jar ingress-service) && AGENT_JAR=$(find_jar edge-agent); then return 0; fi
    TUNNEL_STATUS="skipped: ingress-service/edge-agent executable jars missing and the build did not produce them"
    return 1
}

# start_ingress NAME JVMFLAGS -> sets ING_PORT ING_MGMT ING_TUNNEL ING_PID
# Both nginx targets run with access_log off and the jvm target logs nothing, so the ingress's access
# line (one per request, on by default) is off too unless BENCH_ACCESS_LOG=1; the local profile's
# DEBUG level for our packages goes back to INFO.
LOG_ARGS=(--logging.level.io.edgetunnel=INFO)
[ "${BENCH_ACCESS_LOG:-0}" = 1 ] || LOG_ARGS+=(--logging.level.io.edgetunnel.ingress.access=OFF)

# start_ingress NAME JVMFLAGS [EXTRA SPRING ARGS...]; with NOWAIT=1 it returns once the JVM is started
start_ingress() {
    local name=$1 flags=$2
    shift 2
    ING_PORT=$(free_port)
    ING_MGMT=$(free_port)
    ING_TUNNEL=$(free_port)
    # shellcheck disable=SC2086 # JVM flags are a word list on purpose
    bg "$name" env TUNNEL_TOKEN="$TOKEN" ${CLUSTER_SECRET:+INGRESS_CLUSTER_SECRET=$CLUSTER_SECRET} \
        java $flags -jar "$INGRESS_JAR" --spring.profiles.active=local \
        --server.port="$ING_PORT" --management.server.port="$ING_MGMT" --ingress.tunnel.port="$ING_TUNNEL" \
        "${LOG_ARGS[@]}" "$@" ${BENCH_INGRESS_ARGS:-}
    ING_PID=$LAST_PID
    [ "${NOWAIT:-0}" = 1 ] && return 0
    wait_http "http://127.0.0.1:$ING_MGMT/actuator/health/readiness" 180 "$ING_PID"
}

# ------------------------------------------------------------------ cluster (issue 13)
# A private redis-server (loopback, random port, no persistence) as the cluster directory; replica 1
# is the tunnel target's ingress, replica 2 a second ingress without agents. Both get these args.
CLUSTER_STATUS=pending
CLUSTER_ARGS=()
MAIN_CLUSTERED=false
start_redis() {
    if ! command -v redis-server >/dev/null 2>&1; then
        CLUSTER_STATUS="skipped: redis-server not found (apt-get install redis-server)"
        return 1
    fi
    REDIS_PORT=$(free_port)
    mkdir -p "$WORK/redis"
    bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --save '' \
        --appendonly no --dir "$WORK/redis" --loglevel warning
    REDIS_PID=$LAST_PID
    local _
    for _ in $(seq 1 50); do
        if python3 - "$REDIS_PORT" <<'PY' 2>/dev/null; then
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"PING\r\n")
sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
PY
            CLUSTER_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')
            return 0
        fi
        kill -0 "$REDIS_PID" 2>/dev/null || break
        sleep 0.2
    done
    CLUSTER_STATUS="failed: redis-server did not answer PING (see logs/redis.log)"
    return 1
}

cluster_args() { # cluster_args REPLICA_ID -> CLUSTER_ARGS (the secret goes by environment, never on a command line)
    CLUSTER_ARGS=("--ingress.cluster.redis-url=redis://127.0.0.1:$REDIS_PORT"
        "--ingress.cluster.port=$(free_port)" --ingress.cluster.advertise-address=127.0.0.1
        "--ingress.cluster.replica-id=$1")
}

# launched right after the tunnel target, without waiting: its JVM start overlaps the other
# targets' start and warm-up (unmeasured) instead of adding to the run's wall time
launch_replica2() {
    [ "$CLUSTER_STATUS" = pending ] || return 1
    cluster_args bench-replica-2
    NOWAIT=1 start_ingress ingress-replica2 "$JVM_FLAGS" "${CLUSTER_ARGS[@]}"
    R2_PORT=$ING_PORT R2_MGMT=$ING_MGMT R2_PID=$ING_PID
    R2_LAUNCHED=$SECONDS
}

start_tunnel() {
    TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    CLUSTER_ARGS=()
    AGENT_CLUSTER_ARGS=()
    if has_case cluster && start_redis; then
        cluster_args bench-replica-1
        MAIN_CLUSTERED=true
        # the agent stays on replica 1, where it dialled: no re-dials to spread its tunnels over
        # replicas (it would only reach replica 1 again), so replica 2 holds nothing
        AGENT_CLUSTER_ARGS=(--agent.spread.enabled=false)
    fi
    TCP_ING_ARGS=()
    TCP_AGENT_ARGS=()
    if has_case tcp-1gib; then
        TCP_PUBLIC_PORT=$(free_port)
        TCP_ING_ARGS=(--ingress.tcp.address=127.0.0.1 "--ingress.tcp.listeners=bench=$TCP_PUBLIC_PORT")
        TCP_AGENT_ARGS=("--agent.tcp-routes=bench=127.0.0.1:$TCP_SRC_PORT")
    fi
    if ! start_ingress ingress "$JVM_FLAGS" "${CLUSTER_ARGS[@]}" "${TCP_ING_ARGS[@]}"; then
        TUNNEL_STATUS="failed: ingress not ready within 180 s (see logs/ingress.log)"
        tail -n 20 "$WORK/logs/ingress.log" >&2 || true
        return 1
    fi
    MAIN_ING_PORT=$ING_PORT MAIN_ING_TUNNEL=$ING_TUNNEL MAIN_ING_PID=$ING_PID MAIN_ING_MGMT=$ING_MGMT
    AGENT_PORT=$(free_port)
    # shellcheck disable=SC2086
    bg agent env TUNNEL_TOKEN="$TOKEN" java $JVM_FLAGS -jar "$AGENT_JAR" --spring.profiles.active=local \
        --server.port="$AGENT_PORT" --management.server.port="$AGENT_PORT" \
        --agent.ingress-uri="ws://127.0.0.1:$ING_TUNNEL/tunnel" \
        "--agent.routes[0].host=$HOST_HEADER" "--agent.routes[0].local-url=http://127.0.0.1:$UP_PORT" \
        "${AGENT_CLUSTER_ARGS[@]}" "${TCP_AGENT_ARGS[@]}" "${LOG_ARGS[@]}" ${BENCH_AGENT_ARGS:-}
    AGENT_PID=$LAST_PID
    PROCS_OF[tunnel]="ingress=$MAIN_ING_PID agent=$AGENT_PID"
    if ! wait_http "http://127.0.0.1:$AGENT_PORT/actuator/health/readiness" 180 "$AGENT_PID"; then
        TUNNEL_STATUS="failed: agent not ready (tunnel registered) within 180 s (see logs/agent.log)"
        tail -n 20 "$WORK/logs/agent.log" >&2 || true
        return 1
    fi
    if ! wait_http "http://127.0.0.1:$MAIN_ING_PORT/small" 30; then
        TUNNEL_STATUS="failed: GET /small through the tunnel did not answer 2xx"
        return 1
    fi
    TUNNEL_STATUS=ok
}

# ------------------------------------------------------------------ measurements
declare -A PORT_OF
# the processes that do a target's work, "label=pid ..." (a pid's descendants count with it: nginx's
# workers, sshd's session child); the upstream nginx serves every target alike and is left out
declare -A PROCS_OF
target_available() { [ -n "${PORT_OF[$1]:-}" ]; }

check_target() { # check_target TARGET: 200 and the exact bytes of both bodies
    local port=${PORT_OF[$1]} small big
    small=$(curl -sS --max-time 5 -H "Host: $HOST_HEADER" -o /dev/null -w '%{http_code} %{size_download}' \
        "http://127.0.0.1:$port/small" 2>/dev/null || true)
    big=$(curl -sS --max-time 5 -H "Host: $HOST_HEADER" "http://127.0.0.1:$port/1mib" 2>/dev/null | cmp -s - "$WORK/www/1mib" && echo same || echo differs)
    [ "$small" = "200 100" ] && [ "$big" = same ]
}

# run_wrk CASE TARGET CONNS SECONDS PATH -> $WORK/raw/CASE.TARGET.json
run_wrk() {
    local case=$1 target=$2 conns=$3 secs=$4 path=$5 threads=2 out
    [ "$conns" -lt 2 ] && threads=1
    out=$(BENCH_HOST=$HOST_HEADER BENCH_STATUS=${BENCH_STATUS:-0} timeout $((secs + 30)) wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s \
        --latency -s "$BENCH_DIR/wrk-report.lua" "http://127.0.0.1:${PORT_OF[$target]}$path" 2>&1) || true
    echo "$out" >"$WORK/logs/wrk.$case.$target.log"
    if ! echo "$out" | sed -n 's/^BENCHJSON //p' >"$WORK/raw/$case.$target.json" || [ ! -s "$WORK/raw/$case.$target.json" ]; then
        echo '{"failed":"wrk produced no result"}' >"$WORK/raw/$case.$target.json"
    fi
}

warm_up() {
    local t secs
    for t in "${TARGETS[@]}"; do
        target_available "$t" || continue
        secs=$WARMUP
        case "$t" in jvm | tunnel) secs=$TUNNEL_WARMUP ;; esac
        log "warm-up $t (${secs}s)"
        BENCH_HOST=$HOST_HEADER timeout $((secs + 30)) wrk -t2 -c50 -d"${secs}s" -s "$BENCH_DIR/wrk-report.lua" \
            "http://127.0.0.1:${PORT_OF[$t]}/small" >/dev/null 2>&1 || true
        BENCH_HOST=$HOST_HEADER timeout $((secs + 30)) wrk -t2 -c8 -d2s -s "$BENCH_DIR/wrk-report.lua" \
            "http://127.0.0.1:${PORT_OF[$t]}/1mib" >/dev/null 2>&1 || true
        if has_case download-1gib || has_case upload-1gib; then
            # the JVMs' streaming paths are other code than the small-body one and compile on first
            # use: 256 MiB uploads through the tunnel measured 90, 165-205, 320-420, then ~500 MB/s
            # from the fourth on; nginx and sshd need no warming
            local rounds=1
            case "$t" in jvm | tunnel) rounds=4 ;; esac
            for _ in $(seq "$rounds"); do
                curl -sS --max-time 120 -H "Host: $HOST_HEADER" -o /dev/null \
                    "http://127.0.0.1:${PORT_OF[$t]}/warm" 2>>"$WORK/logs/curl.log" || true
                curl -sS --max-time 120 -H "Host: $HOST_HEADER" -H 'Expect:' -X POST -T "$WORK/www/warm" \
                    -o /dev/null "http://127.0.0.1:${PORT_OF[$t]}/upload" 2>>"$WORK/logs/curl.log" || true
            done
        fi
    done
}

# settle TARGET CONNS PATH THREADS: more warm-up rounds at the case's own concurrency until two in a
# row agree on req/s within 5 % (at most SETTLE_ROUNDS). A new concurrency makes C2 recompile the hot
# paths, and on a busy machine a fixed warm-up can end before it has: a profile of such a run showed
# 56 % of both JVMs' samples in the JIT during the measured c256 load (docs/perf/README.md).
SETTLE_ROUNDS=${BENCH_SETTLE_ROUNDS:-4}
settle() {
    local t=$1 conns=$2 path=$3 threads=$4 prev="" rps round seen=""
    for round in $(seq "$SETTLE_ROUNDS"); do
        rps=$(BENCH_HOST=$HOST_HEADER timeout $((CASE_WARMUP + 30)) wrk -t"$threads" -c"$conns" -d"${CASE_WARMUP}s" \
            -s "$BENCH_DIR/wrk-report.lua" "http://127.0.0.1:${PORT_OF[$t]}$path" 2>/dev/null \
            | sed -n 's/^BENCHJSON //p' | python3 -c 'import json,sys; print(json.load(sys.stdin).get("rps", 0))' 2>/dev/null || echo 0)
        seen+="${seen:+, }$rps"
        if [ -n "$prev" ] && awk -v a="$prev" -v b="$rps" 'BEGIN { exit !(a > 0 && (b - a) / a < 0.05 && (a - b) / a < 0.05) }'; then
            log "  settled after $round round(s): $seen req/s"
            return 0
        fi
        prev=$rps
    done
    log "  not settled after $SETTLE_ROUNDS rounds ($seen req/s); measuring anyway"
}

load_case() { # load_case NAME CONNS PATH
    local name=$1 conns=$2 path=$3 t
    has_case "$name" || return 0
    for t in "${TARGETS[@]}"; do
        if target_available "$t"; then
            case "$t" in
                jvm | tunnel)
                    local warm=$CASE_WARMUP threads=2
                    if [ "$conns" -lt 2 ]; then warm=$CASE_WARMUP_C1; threads=1; fi
                    log "$name -> $t: warm-up at c$conns (${warm}s)"
                    BENCH_HOST=$HOST_HEADER timeout $((warm + 30)) wrk -t"$threads" -c"$conns" -d"${warm}s" \
                        -s "$BENCH_DIR/wrk-report.lua" "http://127.0.0.1:${PORT_OF[$t]}$path" >/dev/null 2>&1 || true
                    settle "$t" "$conns" "$path" "$threads"
                    ;;
            esac
            log "$name -> $t (wrk -c$conns ${DURATION}s $path)"
            local cpu0
            cpu0=$(procs_cpu "$t")
            profile_start "$name" "$t"
            counters_start "$t"
            run_wrk "$name" "$t" "$conns" "$DURATION" "$path"
            counters_stop "$name" "$t"
            profile_stop "$name" "$t"
            cpu_json "$cpu0" "$(procs_cpu "$t")" >"$WORK/raw/$name.$t.cpu.json"
            sleep 1 # let the previous target's connections close
        fi
    done
    echo "{\"kind\":\"load\",\"connections\":$conns,\"path\":\"$path\",\"duration_s\":$DURATION}" >"$WORK/raw/$name.meta.json"
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

transfer_case() { # transfer_case download|upload
    local dir=$1 name="$1-1gib" t port res code bytes secs size
    has_case "$name" || return 0
    size=$((TRANSFER_MIB * 1024 * 1024))
    local tunnel_before=""
    if target_available tunnel; then
        tunnel_before="\"ingress_rss_kib_before\":$(rss_kib "$MAIN_ING_PID"),\"agent_rss_kib_before\":$(rss_kib "$AGENT_PID"),"
    fi
    for t in "${TARGETS[@]}"; do
        target_available "$t" || continue
        port=${PORT_OF[$t]}
        log "$name -> $t ($TRANSFER_MIB MiB)"
        if [ "$dir" = download ]; then
            res=$(curl -sS --max-time 300 -H "Host: $HOST_HEADER" -o /dev/null \
                -w '%{http_code} %{size_download} %{time_total}' "http://127.0.0.1:$port/big" 2>>"$WORK/logs/curl.log" || true)
            read -r code bytes secs <<<"$res"
        else
            res=$(curl -sS --max-time 300 -H "Host: $HOST_HEADER" -H 'Expect:' -X POST -T "$WORK/www/big" \
                -o "$WORK/upload.resp" -w '%{http_code} %{size_upload} %{time_total}' \
                "http://127.0.0.1:$port/upload" 2>>"$WORK/logs/curl.log" || true)
            read -r code bytes secs <<<"$res"
            # the sink answers with the number of body bytes it read
            bytes=$(cat "$WORK/upload.resp" 2>/dev/null || echo 0)
            case "$bytes" in '' | *[!0-9]*) bytes=0 ;; esac
        fi
        python3 - "$WORK/raw/$name.$t.json" "${code:-0}" "${bytes:-0}" "${secs:-0}" "$size" <<'EOF'
import json, sys
path, code, nbytes, secs, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
ok = code == 200 and nbytes == size and secs > 0
json.dump({"status": code, "bytes": nbytes, "expected_bytes": size, "seconds": secs,
           "mbps": round(nbytes / secs / 1e6, 1) if ok else None, "ok": ok}, open(path, "w"))
EOF
        sleep 0.5
    done
    local tunnel_after=""
    if target_available tunnel; then
        tunnel_after="\"ingress_rss_kib_after\":$(rss_kib "$MAIN_ING_PID"),\"agent_rss_kib_after\":$(rss_kib "$AGENT_PID"),\"ingress_hwm_kib\":$(hwm_kib "$MAIN_ING_PID"),\"agent_hwm_kib\":$(hwm_kib "$AGENT_PID"),"
    fi
    echo "{${tunnel_before}${tunnel_after}\"kind\":\"transfer\",\"direction\":\"$dir\",\"mib\":$TRANSFER_MIB}" >"$WORK/raw/$name.meta.json"
}

# ------------------------------------------------------------------ tcp-1gib (issue 17)
start_tcp_source() { # a local TCP source (bench/tcp_bench.py), and ssh -L to it through the private sshd
    TCP_SRC_PORT=$(free_port)
    bg tcp-source python3 "$BENCH_DIR/tcp_bench.py" source "$TCP_SRC_PORT"
    SSHL_PORT=$(free_port)
    bg ssh-L ssh "${SSH_OPTS[@]}" -L "127.0.0.1:$SSHL_PORT:127.0.0.1:$TCP_SRC_PORT" root@127.0.0.1
    for _ in $(seq 1 40); do
        (exec 3<>"/dev/tcp/127.0.0.1/$SSHL_PORT") 2>/dev/null && return 0
        sleep 0.5
    done
    die "ssh -L did not come up (see logs)"
}

tcp_case() {
    has_case tcp-1gib || return 0
    local t port secs targets=()
    secs=${DURATION:-10}
    [ "$TUNNEL_STATUS" = ok ] && targets+=("tunnel=$TCP_PUBLIC_PORT")
    targets+=("ssh=$SSHL_PORT")
    log "tcp-1gib -> ${targets[*]} (${TCP_WARMUP_S}s of warm-up each, then $TCP_ROUNDS rounds of $TRANSFER_MIB MiB taking turns)"
    timeout 900 python3 "$BENCH_DIR/tcp_bench.py" bulk "$TRANSFER_MIB" "$TCP_ROUNDS" "$TCP_WARMUP_S" "${targets[@]}" \
        >"$WORK/raw/tcp-1gib.bulk.json" 2>>"$WORK/logs/tcp-bench.log" || echo '{}' >"$WORK/raw/tcp-1gib.bulk.json"
    for t in "${targets[@]}"; do
        port=${t#*=}
        t=${t%%=*}
        log "tcp-1gib -> $t: short connections for ${secs}s"
        timeout $((secs + 60)) python3 "$BENCH_DIR/tcp_bench.py" churn "$port" "$secs" >"$WORK/raw/tcp-1gib.$t.churn.json" \
            2>>"$WORK/logs/tcp-bench.log" || echo '{}' >"$WORK/raw/tcp-1gib.$t.churn.json"
        sleep 0.5
    done
    echo "{\"kind\":\"tcp\",\"mib\":$TRANSFER_MIB,\"rounds\":$TCP_ROUNDS,\"warmup_s\":$TCP_WARMUP_S,\"churn_s\":$secs}" \
        >"$WORK/raw/tcp-1gib.meta.json"
}

ensure_bench_classpath() {
    [ -n "${BENCH_CP:-}" ] && return 0
    # the benchmark project needs shared-protocol in ~/.m2; install the jar already built in the
    # repo (no rebuild, so it never races a developer's build of the same module)
    local m2=$HOME/.m2/repository/io/edgetunnel
    local built=$ROOT/shared-protocol/target/shared-protocol-$VERSION.jar
    local installed=$m2/shared-protocol/$VERSION/shared-protocol-$VERSION.jar
    if [ ! -f "$built" ] && [ ! -f "$installed" ]; then
        log "shared-protocol jar missing; building it"
        (cd "$ROOT" && ./mvnw -B -q -o package -DskipTests -pl shared-protocol -am) >"$WORK/logs/mvn-protocol.log" 2>&1 || true
    fi
    if [ -f "$built" ] && ! cmp -s "$built" "$installed"; then
        log "installing shared-protocol $VERSION into ~/.m2"
        (cd "$ROOT" && ./mvnw -B -q -o -N install -DskipTests) >"$WORK/logs/mvn-install.log" 2>&1 || true
        (cd "$ROOT" && ./mvnw -B -q -o install:install-file -Dfile="$built" -DpomFile=shared-protocol/pom.xml) \
            >>"$WORK/logs/mvn-install.log" 2>&1 || true
    fi
    if ! (cd "$BENCH_DIR/jmh" && "$ROOT/mvnw" -B -q -o -f "$BENCH_DIR/jmh/pom.xml" package dependency:build-classpath \
        -Dmdep.outputFile=target/cp.txt) >"$WORK/logs/mvn-bench.log" 2>&1; then
        # first run on a machine: the JMH artifacts may not be in ~/.m2 yet
        (cd "$BENCH_DIR/jmh" && "$ROOT/mvnw" -B -q -f "$BENCH_DIR/jmh/pom.xml" package dependency:build-classpath \
            -Dmdep.outputFile=target/cp.txt) >"$WORK/logs/mvn-bench.log" 2>&1 || {
            tail -n 20 "$WORK/logs/mvn-bench.log" >&2
            return 1
        }
    fi
    BENCH_CP="$BENCH_DIR/jmh/target/classes:$(cat "$BENCH_DIR/jmh/target/cp.txt")"
}

heap_used_kib() { # after a full GC; G1 prints "garbage-first heap   total 1048576K, used 12345K"
    jcmd "$1" GC.run >/dev/null 2>&1 || true
    sleep 0.5
    jcmd "$1" GC.heap_info 2>/dev/null | sed -n 's/.* used \([0-9]*\)K.*/\1/p' | head -n 1
}

idle_case() {
    has_case idle-agents || return 0
    local meta="$WORK/raw/idle-agents.meta.json"
    if [ "$TUNNEL_STATUS" != ok ]; then
        echo "{\"kind\":\"idle\",\"status\":\"$TUNNEL_STATUS\"}" >"$meta"
        return 0
    fi
    if ! ensure_bench_classpath; then
        echo '{"kind":"idle","status":"failed: could not build the simulator classpath (bench/jmh)"}' >"$meta"
        return 0
    fi
    log "idle-agents: fresh ingress ($IDLE_JVM_FLAGS), $IDLE_AGENTS simulated agents"
    # every simulated agent shares the bench token's identity, which the ingress caps at 64 tunnels
    # by default (ingress.policy.max-tunnels-per-identity), and one source address, which may hold 8
    # connections before authentication (ingress.tunnel.pre-auth.*): lift both for this case only
    local idle_args="--ingress.policy.max-tunnels-per-identity=$((IDLE_AGENTS + 100))"
    idle_args+=" --ingress.tunnel.pre-auth.max-connections-per-source=1024 --ingress.tunnel.pre-auth.max-connections=1024"
    if ! BENCH_INGRESS_ARGS="${BENCH_INGRESS_ARGS:-} $idle_args" \
            start_ingress ingress-idle "$IDLE_JVM_FLAGS"; then
        echo '{"kind":"idle","status":"failed: idle ingress not ready"}' >"$meta"
        return 0
    fi
    local pid=$ING_PID heap0 rss0 heap1 rss1 sim_pid cpu0 cpu1 load0 load1
    heap0=$(heap_used_kib "$pid")
    rss0=$(rss_kib "$pid")
    rm -f "$WORK/idle.stop"
    # CPU the ingress spends while the agents register (the simulator reports its own): unlike the
    # wall time, this does not depend on what else runs on the machine
    cpu0=$(cpu_ticks "$pid")
    load0=$(cut -d' ' -f1 /proc/loadavg)
    bg idle-agents java -Xmx2g -cp "$BENCH_CP" "$BENCH_DIR/IdleAgents.java" --mode idle \
        --uri "ws://127.0.0.1:$ING_TUNNEL/tunnel" --token "$TOKEN" --count "$IDLE_AGENTS" \
        --host-format 'idle-%d.bench.local' --stop-file "$WORK/idle.stop" --timeout 180 \
        --result "$WORK/raw/idle-agents.sim.json"
    sim_pid=$LAST_PID
    local deadline=$((SECONDS + 240))
    while [ $SECONDS -lt $deadline ] && kill -0 "$sim_pid" 2>/dev/null && [ ! -s "$WORK/raw/idle-agents.sim.json" ]; do
        sleep 0.5
    done
    cpu1=$(cpu_ticks "$pid")
    load1=$(cut -d' ' -f1 /proc/loadavg)
    sleep 2 # let the ingress settle (registration bookkeeping, first heartbeats)
    heap1=$(heap_used_kib "$pid")
    rss1=$(rss_kib "$pid")
    touch "$WORK/idle.stop"
    for _ in $(seq 1 60); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.5; done
    kill -TERM "$pid" 2>/dev/null || true
    echo "{\"kind\":\"idle\",\"status\":\"ok\",\"agents\":$IDLE_AGENTS,\"heap_kib_before\":${heap0:-null},\"heap_kib_after\":${heap1:-null},\"rss_kib_before\":${rss0:-null},\"rss_kib_after\":${rss1:-null},\"ingress_cpu_s\":$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }'),\"loadavg_before\":$load0,\"loadavg_after\":$load1,\"jvm_flags\":\"$IDLE_JVM_FLAGS\"}" >"$meta"
}

churn_case() {
    has_case churn || return 0
    local meta="$WORK/raw/churn.meta.json"
    if [ "$TUNNEL_STATUS" != ok ]; then
        echo "{\"kind\":\"churn\",\"status\":\"$TUNNEL_STATUS\"}" >"$meta"
        return 0
    fi
    if ! ensure_bench_classpath; then
        echo '{"kind":"churn","status":"failed: could not build the simulator classpath (bench/jmh)"}' >"$meta"
        return 0
    fi
    log "churn: simulated agents join and leave $HOST_HEADER every 250 ms while wrk -c50 runs ${DURATION}s"
    rm -f "$WORK/churn.ready" "$WORK/churn.stop"
    bg churn-agents java -Xmx512m -cp "$BENCH_CP" "$BENCH_DIR/IdleAgents.java" --mode churn \
        --uri "ws://127.0.0.1:$MAIN_ING_TUNNEL/tunnel" --token "$TOKEN" --count 8 \
        --host-format "$HOST_HEADER" --period-ms 250 --duration $((DURATION + 120)) --timeout 60 \
        --ready-file "$WORK/churn.ready" --stop-file "$WORK/churn.stop" --result "$WORK/raw/churn.sim.json"
    local sim_pid=$LAST_PID
    # the simulated agents are registered before the load starts (the JVM compiles the source first)
    for _ in $(seq 1 120); do
        [ -s "$WORK/churn.ready" ] && break
        kill -0 "$sim_pid" 2>/dev/null || break
        sleep 0.5
    done
    if [ ! -s "$WORK/churn.ready" ]; then
        echo '{"kind":"churn","status":"failed: simulated agents did not register (see logs/churn-agents.log)"}' >"$meta"
        touch "$WORK/churn.stop"
        return 0
    fi
    BENCH_STATUS=1 run_wrk churn tunnel 50 "$DURATION" /small
    touch "$WORK/churn.stop"
    for _ in $(seq 1 80); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.5; done
    echo "{\"kind\":\"churn\",\"status\":\"ok\",\"connections\":50,\"duration_s\":$DURATION}" >"$meta"
}

# served_counts: "LOCAL FORWARDED", both replicas' tunnel.ingress.cluster.requests summed (a request
# is counted once, by the replica the client reached)
served_counts() {
    python3 - "http://127.0.0.1:$MAIN_ING_MGMT/actuator/prometheus" "http://127.0.0.1:$R2_MGMT/actuator/prometheus" <<'PY' 2>/dev/null || echo "null null"
import re, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
tot = {"local": 0.0, "forwarded": 0.0}
for url in sys.argv[1:]:
    for line in opener.open(url, timeout=5).read().decode().splitlines():
        if line.startswith("tunnel_ingress_cluster_requests_total{"):
            m = re.search(r'via="(\w+)"', line)
            if m and m.group(1) in tot:
                tot[m.group(1)] += float(line.rsplit(" ", 1)[1])
print(int(tot["local"]), int(tot["forwarded"]))
PY
}

# cluster_wrk NAME PORT CONNS THREADS SECS -> $WORK/raw/cluster.NAME.json (same wrk setup as run_wrk)
cluster_wrk() {
    local name=$1 port=$2 conns=$3 threads=$4 secs=$5 out
    out=$(BENCH_HOST=$HOST_HEADER timeout $((secs + 30)) wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s \
        --latency -s "$BENCH_DIR/wrk-report.lua" "http://127.0.0.1:$port/small" 2>&1) || true
    echo "$out" >"$WORK/logs/wrk.cluster.$name.log"
    echo "$out" | sed -n 's/^BENCHJSON //p' >"$WORK/raw/cluster.$name.json" || true
    [ -s "$WORK/raw/cluster.$name.json" ] || echo '{"failed":"wrk produced no result"}' >"$WORK/raw/cluster.$name.json"
}

# the 50/50 mix: 25 connections at each replica at once (one wrk thread each, two in all, as small-c50)
cluster_mix() { # cluster_mix SECS [measure]
    local secs=$1 measure=${2:-} a b
    if [ -n "$measure" ]; then
        cluster_wrk mix-local "$MAIN_ING_PORT" 25 1 "$secs" &
        a=$!
        cluster_wrk mix-forwarded "$R2_PORT" 25 1 "$secs" &
        b=$!
    else
        BENCH_HOST=$HOST_HEADER timeout $((secs + 30)) wrk -t1 -c25 -d"${secs}s" -s "$BENCH_DIR/wrk-report.lua" \
            "http://127.0.0.1:$MAIN_ING_PORT/small" >/dev/null 2>&1 &
        a=$!
        BENCH_HOST=$HOST_HEADER timeout $((secs + 30)) wrk -t1 -c25 -d"${secs}s" -s "$BENCH_DIR/wrk-report.lua" \
            "http://127.0.0.1:$R2_PORT/small" >/dev/null 2>&1 &
        b=$!
    fi
    wait "$a" "$b" || true
}

# cpu_snapshot: "r1 r2 agent" CPU ticks (utime + stime)
cpu_snapshot() { echo "$(cpu_ticks "$MAIN_ING_PID") $(cpu_ticks "$R2_PID") $(cpu_ticks "$AGENT_PID")"; }

# cluster_phase NAME: records served counts and CPU around the measured load that follows
cluster_phase_begin() { PHASE_SERVED0=$(served_counts); PHASE_CPU0=$(cpu_snapshot); }
cluster_phase_end() { # cluster_phase_end NAME -> $WORK/raw/cluster.NAME.phase.json
    local served1 cpu1
    served1=$(served_counts)
    cpu1=$(cpu_snapshot)
    python3 - "$WORK/raw/cluster.$1.phase.json" "$PHASE_SERVED0" "$served1" "$PHASE_CPU0" "$cpu1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
path, s0, s1, c0, c1, hz = sys.argv[1:]
def nums(v):
    return [None if x == "null" else int(x) for x in v.split()]
s0, s1, c0, c1 = nums(s0), nums(s1), nums(c0), nums(c1)
out = {}
if None not in s0 + s1:
    out["served_local"], out["served_forwarded"] = s1[0] - s0[0], s1[1] - s0[1]
out["cpu_s"] = {k: round((b - a) / int(hz), 2) for k, a, b in zip(("replica1", "replica2", "agent"), c0, c1)}
json.dump(out, open(path, "w"))
PY
}

cluster_case() {
    has_case cluster || return 0
    local meta="$WORK/raw/cluster.meta.json"
    if [ "$TUNNEL_STATUS" != ok ]; then
        echo "{\"kind\":\"cluster\",\"status\":\"tunnel $TUNNEL_STATUS\"}" >"$meta"
        return 0
    fi
    if [ "$CLUSTER_STATUS" != launched ]; then
        echo "{\"kind\":\"cluster\",\"status\":\"$CLUSTER_STATUS\"}" >"$meta"
        return 0
    fi
    log "cluster: waiting for replica 2 (ready, and serving $HOST_HEADER by forwarding to replica 1)"
    if ! wait_http "http://127.0.0.1:$R2_MGMT/actuator/health/readiness" 180 "$R2_PID"; then
        tail -n 20 "$WORK/logs/ingress-replica2.log" >&2 || true
        echo '{"kind":"cluster","status":"failed: replica 2 not ready within 180 s (see logs/ingress-replica2.log)"}' >"$meta"
        return 0
    fi
    local ready_s=$((SECONDS - R2_LAUNCHED))
    # replica 2 learns of replica 1's route from the directory (pub/sub, heartbeat 2 s)
    if ! wait_http "http://127.0.0.1:$R2_PORT/small" 30 "$R2_PID"; then
        echo '{"kind":"cluster","status":"failed: replica 2 did not forward GET /small within 30 s (see logs/ingress-replica2.log)"}' >"$meta"
        return 0
    fi
    local small big
    small=$(curl -sS --max-time 5 -H "Host: $HOST_HEADER" -o /dev/null -w '%{http_code} %{size_download}' \
        "http://127.0.0.1:$R2_PORT/small" 2>/dev/null || true)
    big=$(curl -sS --max-time 5 -H "Host: $HOST_HEADER" "http://127.0.0.1:$R2_PORT/1mib" 2>/dev/null | cmp -s - "$WORK/www/1mib" && echo same || echo differs)
    if [ "$small" != "200 100" ] || [ "$big" != same ]; then
        echo "{\"kind\":\"cluster\",\"status\":\"failed: wrong bodies through replica 2 (/small: $small, /1mib: $big)\"}" >"$meta"
        return 0
    fi
    # the JIT: replica 2 is a fresh JVM and replica 1's cluster port is code no other case runs; the
    # mix warms every path at once (replica 1 public + cluster port, replica 2, agent)
    log "cluster: warm-up, 25 connections at each replica (${TUNNEL_WARMUP}s)"
    cluster_mix "$TUNNEL_WARMUP"
    local phase port
    for phase in local forwarded; do
        port=$MAIN_ING_PORT
        [ "$phase" = forwarded ] && port=$R2_PORT
        log "cluster $phase: warm-up at c50 (${CASE_WARMUP}s), then wrk -c50 ${DURATION}s against replica $([ "$phase" = local ] && echo 1 || echo 2)"
        BENCH_HOST=$HOST_HEADER timeout $((CASE_WARMUP + 30)) wrk -t2 -c50 -d"${CASE_WARMUP}s" \
            -s "$BENCH_DIR/wrk-report.lua" "http://127.0.0.1:$port/small" >/dev/null 2>&1 || true
        cluster_phase_begin
        cluster_wrk "$phase" "$port" 50 2 "$DURATION"
        cluster_phase_end "$phase"
        sleep 1
    done
    log "cluster mix: warm-up (${CASE_WARMUP}s), then 25 + 25 connections at both replicas ${DURATION}s"
    cluster_mix "$CASE_WARMUP"
    cluster_phase_begin
    cluster_mix "$DURATION" measure
    cluster_phase_end mix
    echo "{\"kind\":\"cluster\",\"status\":\"ok\",\"connections\":50,\"duration_s\":$DURATION,\"warmup_s\":$TUNNEL_WARMUP,\"case_warmup_s\":$CASE_WARMUP,\"replica2_ready_s\":$ready_s,\"redis\":\"$(redis-server --version 2>/dev/null | head -n 1)\"}" >"$meta"
}

codec_case() {
    has_case codec || return 0
    if ! ensure_bench_classpath; then
        echo '{"status":"failed: could not build bench/jmh"}' >"$WORK/raw/codec.json"
        return 0
    fi
    log "codec: JMH ${JMH_ARGS[*]} -prof gc"
    java -cp "$BENCH_CP" org.openjdk.jmh.Main "${JMH_ARGS[@]}" -prof gc -rf json -rff "$WORK/raw/jmh.json" \
        FrameCodecBenchmark >"$WORK/logs/jmh.log" 2>&1 || log "JMH failed (see logs/jmh.log)"
}

# shellcheck source=bench/footprint.sh
. "$BENCH_DIR/footprint.sh"
# shellcheck source=bench/measure.sh
. "$BENCH_DIR/measure.sh"

# ------------------------------------------------------------------ main
main() {
    ensure_tools
    command -v shellcheck >/dev/null 2>&1 || true
    WORK=$(mktemp -d /tmp/edge-bench.XXXXXX)
    mkdir -p "$WORK/logs" "$WORK/raw" "$RESULTS"
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    LOADAVG_START=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$LOADAVG_START" -v c="$(nproc)" 'BEGIN { exit !(l > c / 2) }'; then
        log "WARNING: load average $LOADAVG_START on $(nproc) cores before the run; other work will skew the numbers"
    fi
    log "mode $MODE: ${DURATION}s per load case, transfers ${TRANSFER_MIB} MiB, ${IDLE_AGENTS} idle agents; work dir $WORK"

    make_bodies
    start_upstream
    PORT_OF[direct]=$UP_PORT
    start_ssh
    PORT_OF[ssh]=$SSH_PORT
    if has_case tcp-1gib; then start_tcp_source; fi
    # the footprint case alone needs only the upstream and ssh (it starts its own ingress and agents)
    local others
    others=$(echo ",$CASES," | sed 's/,footprint,/,/; s/^,//; s/,$//')
    if [ -z "$others" ]; then
        TUNNEL_STATUS="not started: footprint only" JVM_STATUS="not started: footprint only"
    else
        start_nginx_hop
        PORT_OF[nginx]=$HOP_PORT
        if start_jvm_hop; then PORT_OF[jvm]=$JVM_HOP_PORT; else log "JVM HOP CASES SKIPPED: $JVM_STATUS"; fi
    fi
    if [ -n "$others" ] && ensure_jars; then
        log "starting ingress + agent ($INGRESS_JAR, $AGENT_JAR)"
        if start_tunnel; then PORT_OF[tunnel]=$MAIN_ING_PORT; fi
        if [ "$TUNNEL_STATUS" = ok ] && has_case cluster && [ "$CLUSTER_STATUS" = pending ]; then
            log "cluster: starting ingress replica 2 (no agent; forwards to replica 1)"
            launch_replica2 && CLUSTER_STATUS=launched
        fi
    fi
    if [ "$TUNNEL_STATUS" != ok ] && [ -n "$others" ]; then
        log "TUNNEL CASES SKIPPED: $TUNNEL_STATUS"
    fi
    local t
    for t in "${TARGETS[@]}"; do
        if target_available "$t" && ! check_target "$t"; then
            log "target $t does not serve the fixed bodies correctly; leaving it out"
            unset "PORT_OF[$t]"
            case "$t" in
                tunnel) TUNNEL_STATUS="failed: wrong bodies through the tunnel" ;;
                jvm) JVM_STATUS="failed: wrong bodies through bench/JvmHop.java" ;;
            esac
        fi
    done

    if has_case small-c1 || has_case small-c50 || has_case small-c256 || has_case small-c1024 || has_case 1mib-c16; then
        warm_up
    fi
    load_case small-c1 1 /small
    load_case small-c50 50 /small
    load_case small-c256 256 /small
    load_case small-c1024 1024 /small
    load_case 1mib-c16 16 /1mib
    cluster_case
    transfer_case download
    transfer_case upload
    tcp_case
    churn_case
    codec_case
    # before idle-agents, whose 10,000 tunnels would leave the machine's memory in another state
    footprint_case
    # last: it starts its own ingress and takes the most memory
    idle_case

    python3 - "$WORK/raw/run.json" <<EOF
import json, sys
json.dump({"mode": "$MODE", "duration_s": $DURATION, "transfer_mib": $TRANSFER_MIB,
           "idle_agents": $IDLE_AGENTS, "tunnel_status": "$TUNNEL_STATUS", "jvm_status": "$JVM_STATUS",
           "tunnel_clustered": "$MAIN_CLUSTERED" == "true", "cluster_status": "$CLUSTER_STATUS",
           "ssh_cipher": "$SSH_CIPHER",
           "nginx_workers": "$NGINX_WORKERS", "jvm_flags": "$JVM_FLAGS",
           "loadavg_at_start": $LOADAVG_START,
           "ingress_jar": "${INGRESS_JAR:-}", "agent_jar": "${AGENT_JAR:-}",
           "cases": "$CASES".split(",")}, open(sys.argv[1], "w"))
EOF
    python3 "$BENCH_DIR/report.py" "$WORK/raw" "$RESULTS"
}

main
