#!/usr/bin/env bash
# Runs the whole system on this machine, on loopback, with no AWS account: a demo app, the
# ingress (public :8080, management :8081, tunnel :8082) and one edge agent (management :8091)
# that serves demo.localhost through the tunnel (and 127.0.0.1, for WebSocket clients that cannot
# set a Host header). Ctrl-C or SIGTERM stops all of it.
#
# ./run-local.sh --replicas N (2..9) runs the ingress as a cluster instead, as deployed: Redis
# (Debian's redis-server) as the cluster directory, N ingress replicas (replica i: public 8080+100*i,
# management +1, tunnel +2, cluster +3), HAProxy in front on :8080 (public) and :8082 (tunnel) in
# place of the ALB, and one agent (two tunnels) dialling the balancer.
set -euo pipefail
cd "$(dirname "$0")"

usage() {
    echo "usage: $0 [--replicas N]   (N from 2 to 9; without it: one ingress, no Redis, no balancer)" >&2
}
REPLICAS=0
replicas_given=no
while [ $# -gt 0 ]; do
    case $1 in
        --replicas) REPLICAS=${2:-}; replicas_given=yes; shift 2 || { usage; exit 2; } ;;
        --replicas=*) REPLICAS=${1#--replicas=}; replicas_given=yes; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run-local: unknown argument: $1" >&2; usage; exit 2 ;;
    esac
done
if [ "$replicas_given" = yes ] && ! [[ $REPLICAS =~ ^[2-9]$ ]]; then
    echo "run-local: --replicas: '$REPLICAS' (expected: 2..9; plain ./run-local.sh runs one ingress)" >&2
    exit 2
fi

VERSION=0.1.0-SNAPSHOT
INGRESS_JAR=ingress-service/target/ingress-service-$VERSION-exec.jar
AGENT_JAR=edge-agent/target/edge-agent-$VERSION-exec.jar
DEMO_JAR=demo-app/target/demo-app-$VERSION.jar
DEMO_PORT=${DEMO_PORT:-3000}
# the TCP route run-local publishes: the ingress's port SSH_PUBLIC_PORT reaches SSH_TARGET through the tunnel
SSH_PUBLIC_PORT=${SSH_PUBLIC_PORT:-2222}
SSH_TARGET=${SSH_TARGET:-127.0.0.1:22}
LOG_DIR=.run-local
# Not Redis's 6379, so a system Redis (or another project's) is never used as the directory.
REDIS_PORT=${REDIS_PORT:-6390}

# Debian installs haproxy in /usr/sbin, which is not on an ordinary user's PATH.
find_server() {
    command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true
}
if [ "$REPLICAS" -gt 0 ]; then
    REDIS_SERVER=$(find_server redis-server)
    HAPROXY=$(find_server haproxy)
    missing=()
    [ -n "$REDIS_SERVER" ] || missing+=(redis-server)
    [ -n "$HAPROXY" ] || missing+=(haproxy)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "run-local: --replicas needs ${missing[*]}; on Debian or Ubuntu: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    ports=(8080 8082 8091 "$DEMO_PORT" "$REDIS_PORT")
    for i in $(seq 1 "$REPLICAS"); do
        base=$((8080 + 100 * i))
        ports+=("$base" $((base + 1)) $((base + 2)) $((base + 3)))
    done
else
    ports=(8080 8081 8082 8091 "$DEMO_PORT" "$SSH_PUBLIC_PORT")
fi

for port in "${ports[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "run-local: port $port on 127.0.0.1 is already in use; stop whatever listens there first." >&2
        exit 1
    fi
done

if [ ! -f "$INGRESS_JAR" ] || [ ! -f "$AGENT_JAR" ] || [ ! -f "$DEMO_JAR" ]; then
    echo "run-local: building the jars (first run only) ..."
    ./mvnw -B -q package -DskipTests
fi

# The JVM options of each service's container image (JAVA_TOOL_OPTIONS, written once, in the
# module's pom), with the memory the deployment gives it (-XX:MaxRAM stands in for the container
# limit, as the templates set it: 192 MiB per agent, a 1 GiB task per ingress; AGENT_MEMORY_LIMIT and
# INGRESS_MEMORY_LIMIT override), so what runs here is what runs there.
image_java_tool_options() {
    sed -n 's:.*<image.java-tool-options>\(.*\)</image.java-tool-options>.*:\1:p' "$1/pom.xml" | head -n 1
}
AGENT_JAVA_TOOL_OPTIONS="$(image_java_tool_options edge-agent) -XX:MaxRAM=${AGENT_MEMORY_LIMIT:-192m}"
AGENT_MALLOC_ARENA_MAX=$(sed -n 's:.*<image.malloc-arena-max>\(.*\)</image.malloc-arena-max>.*:\1:p' edge-agent/pom.xml)
AGENT_MALLOC_MMAP_THRESHOLD=$(sed -n 's:.*<image.malloc-mmap-threshold>\(.*\)</image.malloc-mmap-threshold>.*:\1:p' edge-agent/pom.xml)
INGRESS_JAVA_TOOL_OPTIONS="$(image_java_tool_options ingress-service) -XX:MaxRAM=${INGRESS_MEMORY_LIMIT:-1g}"
# The images run JDK 25: an older java here leaves out what only 25 knows (compact object headers,
# the cap on each compilation's memory, and allowing Netty its sun.misc.Unsafe buffers, which a JDK
# 25 refuses it by default).
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ "${java_major:-0}" -lt 25 ]; then
    only25='s/ ?(-XX:\+UseCompactObjectHeaders|-XX:CompileCommand=MemLimit,[^ ]+|--sun-misc-unsafe-memory-access=[a-z]+)//g'
    AGENT_JAVA_TOOL_OPTIONS=$(sed -E "$only25" <<<"$AGENT_JAVA_TOOL_OPTIONS")
    INGRESS_JAVA_TOOL_OPTIONS=$(sed -E "$only25" <<<"$INGRESS_JAVA_TOOL_OPTIONS")
fi

# One shared token for both sides, passed the way operators pass it: the TUNNEL_TOKEN variable.
TUNNEL_TOKEN=${TUNNEL_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
export TUNNEL_TOKEN

mkdir -p "$LOG_DIR"
pids=()
# Stopped after everything else, so the replicas never see their directory vanish while stopping.
last_pids=()
stop_all() {
    trap - EXIT INT TERM
    if [ ${#pids[@]} -gt 0 ]; then
        echo
        echo "run-local: stopping ..."
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    if [ ${#last_pids[@]} -gt 0 ]; then
        kill -TERM "${last_pids[@]}" 2>/dev/null || true
        wait "${last_pids[@]}" 2>/dev/null || true
    fi
    [ "$REPLICAS" -eq 0 ] || rm -f "$LOG_DIR/haproxy.sock" "$LOG_DIR/haproxy-status.sock"
    exit 0
}
trap stop_all EXIT INT TERM

start() {
    local name=$1
    shift
    "$@" > >(sed -u "s/^/[$name] /" | tee "$LOG_DIR/$name.log") 2>&1 &
    pids+=("$!")
}

any_exited() {
    local pid
    for pid in "${pids[@]}" ${last_pids[@]+"${last_pids[@]}"}; do
        kill -0 "$pid" 2>/dev/null || return 0
    done
    return 1
}

wait_up() {
    local what=$1 url=$2
    shift 2
    for _ in $(seq 1 120); do
        if curl -fsS -o /dev/null "$@" "$url" 2>/dev/null; then
            return 0
        fi
        if any_exited; then
            echo "run-local: a process exited during start-up; see $LOG_DIR/*.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "run-local: $what did not become ready within 60 s; see $LOG_DIR/*.log" >&2
    exit 1
}

if [ "$REPLICAS" -eq 0 ]; then
    start demo env DEMO_PORT="$DEMO_PORT" java -jar "$DEMO_JAR"
    # a TCP route: the ingress's :$SSH_PUBLIC_PORT reaches this machine's sshd ($SSH_TARGET) through the tunnel
    start ingress env JAVA_TOOL_OPTIONS="$INGRESS_JAVA_TOOL_OPTIONS" java -jar "$INGRESS_JAR" --spring.profiles.active=local \
        --ingress.tcp.address=127.0.0.1 "--ingress.tcp.listeners=ssh=$SSH_PUBLIC_PORT"
    start agent env JAVA_TOOL_OPTIONS="$AGENT_JAVA_TOOL_OPTIONS" MALLOC_ARENA_MAX="$AGENT_MALLOC_ARENA_MAX" ${AGENT_MALLOC_MMAP_THRESHOLD:+MALLOC_MMAP_THRESHOLD_=$AGENT_MALLOC_MMAP_THRESHOLD} java -jar "$AGENT_JAR" --spring.profiles.active=local \
        --agent.ingress-uri=ws://127.0.0.1:8082/tunnel \
        "--agent.tcp-routes=ssh=$SSH_TARGET" \
        "--agent.routes[0].host=demo.localhost" \
        "--agent.routes[0].local-url=http://127.0.0.1:$DEMO_PORT" \
        "--agent.routes[1].host=127.0.0.1" \
        "--agent.routes[1].local-url=http://127.0.0.1:$DEMO_PORT"

    wait_up "ingress" http://127.0.0.1:8081/actuator/health/readiness
    wait_up "agent tunnel" http://127.0.0.1:8091/actuator/health/readiness

    cat <<MSG

  edge-tunnel is running on loopback.
    curl http://demo.localhost:8080/                      the demo app, through the tunnel
    curl -d hello http://demo.localhost:8080/echo         request body streamed both ways
    curl -N http://demo.localhost:8080/events             server-sent events, unbuffered
    curl -o /dev/null http://demo.localhost:8080/download?mib=1024   a 1 GiB download
    node --experimental-websocket -e 'const ws = new WebSocket("ws://127.0.0.1:8080/ws"); ws.onopen = () => ws.send("hi"); ws.onmessage = (e) => { console.log("echo:", e.data); ws.close(); }'
                                                          a WebSocket echo (127.0.0.1 routes to the demo app too)
    curl http://127.0.0.1:8081/actuator/tunnels           connected agents and their routes
    curl http://127.0.0.1:8081/actuator/prometheus        ingress metrics
    http://127.0.0.1:8081/ in a browser                   the operator console (agents, routes, rates)
    http://127.0.0.1:8091/ in a browser                   the agent's own page (tunnels, routes, local health)
    ssh -p $SSH_PUBLIC_PORT ${USER:-$(id -un)}@127.0.0.1                     this machine's sshd ($SSH_TARGET), through the tunnel as a TCP route
                                                          (any local TCP service: SSH_TARGET=127.0.0.1:6379 ./run-local.sh)
  Logs: $LOG_DIR/. Ctrl-C stops everything.

MSG

    wait -n "${pids[@]}" || true
    echo "run-local: a process exited; stopping the rest (see $LOG_DIR/*.log)" >&2
    exit 0
fi

# ---- --replicas N: the cluster as deployed, with HAProxy standing in for the ALB ----

# Redis as the cluster directory; nothing in it outlives the run, so nothing is written to disk.
"$REDIS_SERVER" --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$LOG_DIR" \
    > >(sed -u "s/^/[redis] /" | tee "$LOG_DIR/redis.log") 2>&1 &
last_pids+=("$!")
redis_answers() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT"
        printf 'PING\r\n' >&3
        read -r -t 2 reply <&3
        [[ $reply == +PONG* ]]
    ) 2>/dev/null
}
for _ in $(seq 1 40); do
    redis_answers && break
    if any_exited; then
        echo "run-local: redis-server exited during start-up; see $LOG_DIR/redis.log" >&2
        exit 1
    fi
    sleep 0.25
done
redis_answers || { echo "run-local: redis-server did not answer PING within 10 s; see $LOG_DIR/redis.log" >&2; exit 1; }

# Every replica needs the same cluster secret (HMAC of forwarded requests), at least 32 characters.
INGRESS_CLUSTER_SECRET=${INGRESS_CLUSTER_SECRET:-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')}
export INGRESS_CLUSTER_SECRET
export INGRESS_CLUSTER_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export INGRESS_CLUSTER_ADVERTISE_ADDRESS=127.0.0.1

# Why HAProxy and not a small balancer of our own: like the ALB it balances each HTTP request on
# its own (one keep-alive client connection reaches every replica in turn), passes WebSocket
# upgrades through, and marks replicas up and down by their readiness, the way the target groups
# check them; and its runtime API lets an operator drain a replica at the balancer, which is how an
# ECS deploy starts (deregistration), to watch what the cluster does about it.
HAPROXY_CFG=$LOG_DIR/haproxy.cfg
# Relative paths: HAProxy runs in this directory, and a unix socket path must stay short.
HAPROXY_SOCK=$LOG_DIR/haproxy.sock
HAPROXY_STATUS_SOCK=$LOG_DIR/haproxy-status.sock
rm -f "$HAPROXY_SOCK" "$HAPROXY_STATUS_SOCK"
servers() {
    local offset=$1 i base
    for i in $(seq 1 "$REPLICAS"); do
        base=$((8080 + 100 * i))
        echo "    server replica$i 127.0.0.1:$((base + offset)) check port $((base + 1))"
    done
}
cat > "$HAPROXY_CFG" <<CFG
# Generated by run-local.sh --replicas $REPLICAS at every start; edits are lost.
global
    log stdout format raw local0
    stats socket unix@$HAPROXY_SOCK mode 600 level admin
    stats timeout 1m

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout http-request 10s
    # the ALB's idle timeout (AlbIdleTimeoutSeconds); tunnels' heartbeats (20 s) keep them below it
    timeout client 120s
    timeout server 120s
    timeout tunnel 120s
    # the ALB sends a request to one target and answers 502 when it fails, no retry elsewhere
    retries 0
    # readiness, as the target groups check it (there every 10 s, healthy after 2, unhealthy after 3;
    # faster here so a drain shows at once)
    option httpchk GET /actuator/health/readiness
    http-check expect status 200
    timeout check 2s
    default-server inter 2s rise 2 fall 3

# Public traffic. Each request is balanced on its own, even on a kept-alive client connection, as
# the ALB does: that is HTTP mode's default (keep-alive; TCP mode would pin a connection to one
# replica); http-reuse lets requests of different clients share idle connections to a replica, as
# the ALB's do.
frontend public
    bind 127.0.0.1:8080
    option forwardfor
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Port 8080
    default_backend public

backend public
    balance roundrobin
    http-reuse safe
$(servers 0)

# Agents' tunnels (WebSocket upgrades), spread at random over the replicas as the ALB spreads them.
frontend tunnel
    bind 127.0.0.1:8082
    default_backend tunnel

backend tunnel
    balance random
$(servers 2)

# For this script only: 200 once every replica is up in both backends, 503 before.
frontend status
    bind unix@$HAPROXY_STATUS_SOCK mode 600
    monitor-uri /ready
    acl public_incomplete nbsrv(public) lt $REPLICAS
    acl tunnel_incomplete nbsrv(tunnel) lt $REPLICAS
    monitor fail if public_incomplete || tunnel_incomplete
CFG
if ! check=$("$HAPROXY" -c -f "$HAPROXY_CFG" 2>&1); then
    echo "$check" >&2
    echo "run-local: HAProxy rejected $HAPROXY_CFG (see above)" >&2
    exit 1
fi

start demo env DEMO_PORT="$DEMO_PORT" java -jar "$DEMO_JAR"
for i in $(seq 1 "$REPLICAS"); do
    base=$((8080 + 100 * i))
    start "replica$i" env INGRESS_CLUSTER_REPLICA_ID="replica-$i" JAVA_TOOL_OPTIONS="$INGRESS_JAVA_TOOL_OPTIONS" \
        java -jar "$INGRESS_JAR" --spring.profiles.active=local \
        --server.port="$base" --management.server.port=$((base + 1)) \
        --ingress.tunnel.port=$((base + 2)) --ingress.cluster.port=$((base + 3))
done
start haproxy "$HAPROXY" -db -f "$HAPROXY_CFG"

for i in $(seq 1 "$REPLICAS"); do
    wait_up "replica $i" "http://127.0.0.1:$((8081 + 100 * i))/actuator/health/readiness"
done
# The agent dials once the balancer has every replica in service, so its tunnels can land on any
# (before that the balancer answers its upgrades 503, as an ALB without a healthy target does).
wait_up "the balancer's view of the replicas" http://haproxy/ready --unix-socket "$HAPROXY_STATUS_SOCK"
start agent env AGENT_TUNNEL_COUNT=2 JAVA_TOOL_OPTIONS="$AGENT_JAVA_TOOL_OPTIONS" MALLOC_ARENA_MAX="$AGENT_MALLOC_ARENA_MAX" ${AGENT_MALLOC_MMAP_THRESHOLD:+MALLOC_MMAP_THRESHOLD_=$AGENT_MALLOC_MMAP_THRESHOLD} java -jar "$AGENT_JAR" --spring.profiles.active=local \
    --agent.ingress-uri=ws://127.0.0.1:8082/tunnel \
    "--agent.routes[0].host=demo.localhost" \
    "--agent.routes[0].local-url=http://127.0.0.1:$DEMO_PORT" \
    "--agent.routes[1].host=127.0.0.1" \
    "--agent.routes[1].local-url=http://127.0.0.1:$DEMO_PORT"
wait_up "agent tunnel" http://127.0.0.1:8091/actuator/health/readiness

socat_note=""
command -v socat >/dev/null 2>&1 || socat_note="   (socat: sudo apt-get install socat)"
replica_lines=""
for i in $(seq 1 "$REPLICAS"); do
    base=$((8080 + 100 * i))
    replica_lines+="    replica $i: public :$base, management :$((base + 1)), tunnel :$((base + 2)), cluster :$((base + 3))"$'\n'
done
cat <<MSG

  edge-tunnel is running on loopback as a cluster of $REPLICAS ingress replicas, HAProxy in front.
$replica_lines    balancer: public :8080 (round-robin per request), tunnel :8082 (random); Redis :$REDIS_PORT
    curl http://demo.localhost:8080/                          through the balancer, to any replica
    curl -H 'Host: demo.localhost' http://127.0.0.1:8180/     straight to replica 1
    curl -H 'Host: demo.localhost' http://127.0.0.1:8280/     straight to replica 2
    curl http://127.0.0.1:8181/actuator/tunnels               the cluster: replicas, and where each host's agents are
    curl -s http://127.0.0.1:8281/actuator/prometheus | grep cluster_requests   requests served locally / forwarded
  The agent keeps its two tunnels on two different replicas, so each of those answers locally. To see
  replica 2 forward, move its tunnel away (the agent re-dials and lands on another replica), then ask
  replica 2 again:$socat_note
    echo 'set server tunnel/replica2 state maint; shutdown sessions server tunnel/replica2' | socat stdio $HAPROXY_SOCK
  Drain replica 1 at the balancer (as an ALB deregistration does), see the servers' states, undo it:
    echo 'set server public/replica1 state drain' | socat stdio $HAPROXY_SOCK
    echo 'set server tunnel/replica1 state drain' | socat stdio $HAPROXY_SOCK
    echo 'show servers state' | socat stdio $HAPROXY_SOCK
    echo 'set server public/replica1 state ready' | socat stdio $HAPROXY_SOCK
  Logs: $LOG_DIR/ (haproxy.log has one line per request, naming the replica). Ctrl-C stops everything.

MSG

wait -n "${pids[@]}" "${last_pids[@]}" || true
echo "run-local: a process exited; stopping the rest (see $LOG_DIR/*.log)" >&2
