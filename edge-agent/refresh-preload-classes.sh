#!/usr/bin/env bash
# Regenerates the agent's class preload list (src/main/resources/META-INF/edge-agent/preload-classes.txt,
# read by io.edgetunnel.agent.startup.ClassPreloader): the classes an agent loads from its jars and the
# JDK's modules, in the order it loads them, from process start through readiness and its first
# proxied requests.
#
# It runs an agent as deployed as loopback allows: an ingress, a small upstream, and the agent with its
# image's JVM options on a JDK 25 (the image's Java), its jar and libraries on a plain class path (as in
# the image; the list holds class names, so the layout does not matter), the prod profile's structured
# logs, the preloader off (so the order is the agent's own) and -Xlog:class+load. Not covered: a
# deployed agent's wss:// (TLS) and AWS identity classes; they load as before. Run it after a dependency
# upgrade or a change to what the agent does at start (ClassPreloadListTests fails when listed classes
# have gone; new classes missing from the list only cost start time). Needs the built jars
# (./mvnw -DskipTests package), python3 and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
shopt -s nullglob
agent_jars=("$ROOT"/edge-agent/target/edge-agent-*-exec.jar)
ingress_jars=("$ROOT"/ingress-service/target/ingress-service-*-exec.jar)
shopt -u nullglob
AGENT_JAR=${agent_jars[0]:-}
INGRESS_JAR=${ingress_jars[0]:-}
LIST=$ROOT/edge-agent/src/main/resources/META-INF/edge-agent/preload-classes.txt
HOST=preload.test

if [ -z "$AGENT_JAR" ] || [ -z "$INGRESS_JAR" ]; then
    echo "refresh-preload-classes: no executable jars in */target; build first: ./mvnw -DskipTests package" >&2
    exit 1
fi
for tool in python3 curl; do
    command -v "$tool" >/dev/null || { echo "refresh-preload-classes: needs $tool" >&2; exit 1; }
done
JAVA=${PRELOAD_JAVA:-}
if [ -z "$JAVA" ]; then
    for j in /usr/lib/jvm/temurin-25-jdk-*/bin/java /usr/lib/jvm/java-25-*/bin/java; do
        [ -x "$j" ] && { JAVA=$j; break; }
    done
fi
[ -n "$JAVA" ] || { echo "refresh-preload-classes: no JDK 25 found; set PRELOAD_JAVA" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -f "$LIST.tmp"
    if [ "$rc" = 0 ]; then
        rm -rf "$WORK"
    else
        echo "refresh-preload-classes: failed; logs kept in $WORK" >&2
    fi
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
pom_option() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$ROOT/$1/pom.xml" | head -n 1; }
# wait_up URL PID: until URL answers with "UP", for at most 120 s, while PID lives
wait_up() {
    local deadline=$((SECONDS + 120))
    while [ $SECONDS -lt $deadline ]; do
        kill -0 "$2" 2>/dev/null || { echo "refresh-preload-classes: the process behind $1 exited" >&2; return 1; }
        curl -fsS --max-time 2 "$1" 2>/dev/null | grep -q '"UP"' && return 0
        sleep 0.2
    done
    echo "refresh-preload-classes: $1 not UP within 120 s" >&2
    return 1
}

TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
UP_PORT=$(free_port) ING_PORT=$(free_port) ING_MGMT=$(free_port) ING_TUNNEL=$(free_port) AGENT_PORT=$(free_port)
mkdir -p "$WORK/www"
head -c 4096 /dev/urandom >"$WORK/www/small.bin"
python3 -m http.server "$UP_PORT" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)

TUNNEL_TOKEN=$TOKEN JAVA_TOOL_OPTIONS="$(pom_option ingress-service image.java-tool-options)" "$JAVA" -jar "$INGRESS_JAR" \
    --spring.profiles.active=local --server.port="$ING_PORT" --management.server.port="$ING_MGMT" \
    --ingress.tunnel.port="$ING_TUNNEL" >"$WORK/ingress.log" 2>&1 &
ingress_pid=$!
PIDS+=("$ingress_pid")
wait_up "http://127.0.0.1:$ING_MGMT/actuator/health/readiness" "$ingress_pid"

# the agent's own jar and its libraries on a plain class path, as in the image (no nested-jar loader)
"$JAVA" -Djarmode=tools -jar "$AGENT_JAR" extract --destination "$WORK/image" >"$WORK/extract.log" 2>&1
agent_jar=$(find "$WORK/image" -maxdepth 1 -name '*.jar' | head -n 1)
TUNNEL_TOKEN=$TOKEN MALLOC_ARENA_MAX=$(pom_option edge-agent image.malloc-arena-max) \
    JAVA_TOOL_OPTIONS="$(pom_option edge-agent image.java-tool-options) -XX:MaxRAM=128m -Dagent.preload-classes=false -Xlog:class+load=info:file=$WORK/classes.log" \
    "$JAVA" -cp "$agent_jar:$WORK/image/lib/*" io.edgetunnel.agent.EdgeAgentApplication \
    --spring.profiles.active=local --server.port="$AGENT_PORT" --management.server.port="$AGENT_PORT" \
    --agent.ingress-uri="ws://127.0.0.1:$ING_TUNNEL/tunnel" \
    "--agent.routes[0].host=$HOST" "--agent.routes[0].local-url=http://127.0.0.1:$UP_PORT" \
    --logging.structured.format.console=ecs >"$WORK/agent.log" 2>&1 &
agent_pid=$!
PIDS+=("$agent_pid")
wait_up "http://127.0.0.1:$AGENT_PORT/actuator/health/readiness" "$agent_pid"
# the first proxied requests: what an agent loads for them is needed within seconds of a restart
for _ in $(seq 1 20); do
    curl -fsS --max-time 10 -o /dev/null -H "Host: $HOST" "http://127.0.0.1:$ING_PORT/small.bin"
done
sleep 1
# before the agent stops: shutdown's classes are not the start's
cp "$WORK/classes.log" "$WORK/classes.snapshot"

mkdir -p "$(dirname "$LIST")"
{
    echo "# Classes the edge agent loads from process start through readiness and its first proxied requests,"
    echo "# in load order (JDK $("$JAVA" -version 2>&1 | head -n 1 | sed 's/.*"\(.*\)".*/\1/'), the image's options, the prod profile's logs)."
    echo "# Generated by edge-agent/refresh-preload-classes.sh; read by io.edgetunnel.agent.startup.ClassPreloader."
    # jars and the JDK's modules only: classes from the JDK's CDS archive are cheap already, and lambdas
    # and proxies are generated, not loaded by name
    sed -nE 's/^\[[^]]*\]\[[^]]*\]\[[^]]*\] ([^ ]+) source: (file:|jrt:|jar:).*/\1/p' "$WORK/classes.snapshot" \
        | grep -v '^io\.edgetunnel\.agent\.startup\.' | awk '!seen[$0]++'
} >"$LIST.tmp"
mv "$LIST.tmp" "$LIST"
echo "refresh-preload-classes: $(grep -vc '^#' "$LIST") classes -> ${LIST#"$ROOT"/}"
