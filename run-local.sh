#!/usr/bin/env bash
# Runs the whole system on this machine, on loopback, with no AWS account: a demo app, the
# ingress (public :8080, management :8081, tunnel :8082) and one edge agent (management :8091)
# that serves demo.localhost through the tunnel (and 127.0.0.1, for WebSocket clients that cannot
# set a Host header). Ctrl-C or SIGTERM stops all of it.
set -euo pipefail
cd "$(dirname "$0")"

VERSION=0.1.0-SNAPSHOT
INGRESS_JAR=ingress-service/target/ingress-service-$VERSION-exec.jar
AGENT_JAR=edge-agent/target/edge-agent-$VERSION-exec.jar
DEMO_JAR=demo-app/target/demo-app-$VERSION.jar
DEMO_PORT=${DEMO_PORT:-3000}
LOG_DIR=.run-local

for port in 8080 8081 8082 8091 "$DEMO_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "run-local: port $port on 127.0.0.1 is already in use; stop whatever listens there first." >&2
        exit 1
    fi
done

if [ ! -f "$INGRESS_JAR" ] || [ ! -f "$AGENT_JAR" ] || [ ! -f "$DEMO_JAR" ]; then
    echo "run-local: building the jars (first run only) ..."
    ./mvnw -B -q package -DskipTests
fi

# One shared token for both sides, passed the way operators pass it: the TUNNEL_TOKEN variable.
TUNNEL_TOKEN=${TUNNEL_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
export TUNNEL_TOKEN

mkdir -p "$LOG_DIR"
pids=()
stop_all() {
    trap - EXIT INT TERM
    if [ ${#pids[@]} -gt 0 ]; then
        echo
        echo "run-local: stopping ..."
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    exit 0
}
trap stop_all EXIT INT TERM

start() {
    local name=$1
    shift
    "$@" > >(sed -u "s/^/[$name] /" | tee "$LOG_DIR/$name.log") 2>&1 &
    pids+=("$!")
}

start demo env DEMO_PORT="$DEMO_PORT" java -jar "$DEMO_JAR"
start ingress java -jar "$INGRESS_JAR" --spring.profiles.active=local
start agent java -jar "$AGENT_JAR" --spring.profiles.active=local \
    --agent.ingress-uri=ws://127.0.0.1:8082/tunnel \
    "--agent.routes[0].host=demo.localhost" \
    "--agent.routes[0].local-url=http://127.0.0.1:$DEMO_PORT" \
    "--agent.routes[1].host=127.0.0.1" \
    "--agent.routes[1].local-url=http://127.0.0.1:$DEMO_PORT"

wait_up() {
    local what=$1 url=$2
    for _ in $(seq 1 120); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then
            return 0
        fi
        for pid in "${pids[@]}"; do
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "run-local: a process exited during start-up; see $LOG_DIR/*.log" >&2
                exit 1
            fi
        done
        sleep 0.5
    done
    echo "run-local: $what did not become ready within 60 s; see $LOG_DIR/*.log" >&2
    exit 1
}
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
  Logs: $LOG_DIR/. Ctrl-C stops everything.

MSG

wait -n "${pids[@]}" || true
echo "run-local: a process exited; stopping the rest (see $LOG_DIR/*.log)" >&2
