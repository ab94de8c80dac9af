# shellcheck shell=bash
# The footprint case's building blocks (issue 15), sourced by bench/footprint.sh: the images' options as
# their poms write them, the JVM and class-path layout the agent's image runs, starting a JVM with
# options and waiting for it to be ready, the load and the download, and what a variant's memory is
# made of at its end.

# image_java_tool_options MODULE: the JAVA_TOOL_OPTIONS of the module's image, from the one place
# they are written (the image.java-tool-options property of its pom, which Jib's <environment> uses)
image_java_tool_options() {
    sed -n 's:.*<image.java-tool-options>\(.*\)</image.java-tool-options>.*:\1:p' "$ROOT/$1/pom.xml" | head -n 1
}

# image_malloc_env MODULE: glibc's settings in the module's image <environment> (its pom's
# image.malloc-arena-max and image.malloc-mmap-threshold properties), as ENV=v words
image_malloc_env() {
    local pom="$ROOT/$1/pom.xml" arenas threshold
    arenas=$(sed -n 's:.*<image.malloc-arena-max>\(.*\)</image.malloc-arena-max>.*:\1:p' "$pom" | head -n 1)
    threshold=$(sed -n 's:.*<image.malloc-mmap-threshold>\(.*\)</image.malloc-mmap-threshold>.*:\1:p' "$pom" | head -n 1)
    echo "${arenas:+MALLOC_ARENA_MAX=$arenas} ${threshold:+MALLOC_MMAP_THRESHOLD_=$threshold}"
}

now_ms() { date +%s%3N; }

# fp_wait_quiet: waits, at most BENCH_FOOTPRINT_QUIET_MAX seconds (20), until this machine's CPUs were at
# least BENCH_FOOTPRINT_QUIET_IDLE % (85) idle over the last second, so that a variant's start is not
# timed against the tail of the previous variant's JIT (a JVM with the default options still compiles
# for seconds after it is ready, on the same two cores); echoes "waited_ms idle_percent"
fp_wait_quiet() {
    python3 - "${BENCH_FOOTPRINT_QUIET_MAX:-20}" "${BENCH_FOOTPRINT_QUIET_IDLE:-85}" <<'PY'
import sys, time
limit, want = float(sys.argv[1]), float(sys.argv[2])
def snap():
    # user nice system idle iowait irq softirq steal (guest time is already in user and nice)
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return sum(v), v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
t0 = time.monotonic()
while True:
    a = snap(); time.sleep(1); b = snap()
    total = b[0] - a[0]
    pct = 100.0 * (b[1] - a[1]) / total if total else 100.0
    if pct >= want or time.monotonic() - t0 >= limit:
        break
print(int((time.monotonic() - t0) * 1000), round(pct, 1))
PY
}

# fp_image_java: the JVM the agent's image runs (a Temurin 25 base): BENCH_IMAGE_JAVA, else a JDK 25 in
# /usr/lib/jvm, else the java on the PATH (whose major version the results then name)
fp_image_java() {
    local j
    for j in "${BENCH_IMAGE_JAVA:-}" /usr/lib/jvm/temurin-25-jdk-*/bin/java /usr/lib/jvm/java-25-*/bin/java; do
        [ -n "$j" ] && [ -x "$j" ] && { echo "$j"; return 0; }
    done
    command -v java
}

# fp_image_layout JAVA: the agent's classes as the image holds them (its own jar plus its libraries, on
# a class path of jars: what the CDS archive needs); echoes the launch arguments
fp_image_layout() {
    local dir="$WORK/fp-image" jar
    if [ ! -d "$dir/lib" ]; then
        "$1" -Djarmode=tools -jar "$AGENT_JAR" extract --destination "$dir" >"$WORK/logs/fp-image-extract.log" 2>&1 || return 1
    fi
    jar=$(find "$dir" -maxdepth 1 -name '*.jar' | head -n 1)
    [ -n "$jar" ] || return 1
    echo "-cp $jar:$dir/lib/* io.edgetunnel.agent.EdgeAgentApplication"
}

# fp_archive_training JAVA OPTIONS ENV LAUNCH: what the deployment's archive container does before the
# agent starts (deploy/cloudformation/edge.yaml): the image's options plus -Dspring.context.exit=onRefresh,
# which builds the context and exits; with -XX:+AutoCreateSharedArchive the JVM writes the archive at
# that exit (or keeps a valid one). Echoes "ms peak_kib archive_bytes".
fp_archive_training() {
    local javabin=$1 opts=$2 extra_env launch pid t0 hwm=0 h archive
    read -r -a extra_env <<<"$3"
    read -r -a launch <<<"$4"
    archive=$(sed -n 's/.*-XX:SharedArchiveFile=\([^ ]*\).*/\1/p' <<<"$opts")
    t0=$(now_ms)
    env -u MALLOC_ARENA_MAX -u MALLOC_MMAP_THRESHOLD_ TUNNEL_TOKEN="$TOKEN" JAVA_TOOL_OPTIONS="$opts" JDK_JAVA_OPTIONS="-Dspring.context.exit=onRefresh" \
        "${extra_env[@]}" "$javabin" "${launch[@]}" --spring.profiles.active=local --server.port=0 \
        --management.server.port=0 --agent.ingress-uri=ws://127.0.0.1:9/tunnel \
        "--agent.routes[0].host=$FOOTPRINT_HOST" "--agent.routes[0].local-url=http://127.0.0.1:9" \
        >"$WORK/logs/fp-archive-training.log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        h=$(hwm_kib "$pid" 2>/dev/null)
        [ "${h:-0}" -le "$hwm" ] || hwm=$h
        [ $(($(now_ms) - t0)) -lt 120000 ] || kill -KILL "$pid" 2>/dev/null
        sleep 0.05
    done
    wait "$pid" || true
    echo "$(($(now_ms) - t0)) $hwm $(stat -c %s "$archive" 2>/dev/null || echo 0)"
}

# wait_ready_ms URL PID SECONDS: polls readiness every 50 ms until UP; fails on timeout or exit. One
# Python process polls over HTTP/1.1 (~1 ms of CPU a poll): a curl per poll cost ~15 ms of CPU, ~0.25 of
# a core at this rate, taken from the two cores the starting JVM (its main thread and its JIT) needs
wait_ready_ms() {
    python3 - "$1" "$2" "$3" <<'PY'
import http.client, os, sys, time, urllib.parse
url, pid, secs = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + secs
while time.monotonic() < deadline:
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=1)
    try:
        conn.request("GET", url.path)
        if b'"UP"' in conn.getresponse().read():
            sys.exit(0)
    except (OSError, http.client.HTTPException):
        pass
    finally:
        conn.close()
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    time.sleep(0.05)
sys.exit(1)
PY
}

# footprint_java JAVA OPTIONS "ENV=v ..." NAME -- ARGS...: java with OPTIONS as JAVA_TOOL_OPTIONS; inside
# the memory cgroup FP_IN_CGROUP names, if any (the shell joins it and execs java: LAST_PID is java's)
footprint_java() {
    local javabin=${1:-java} opts=$2 name=$4 extra_env in_cgroup=()
    read -r -a extra_env <<<"$3"
    shift 5
    [ -z "${FP_IN_CGROUP:-}" ] || in_cgroup=("${MEMCG_JOIN[@]}" "$FP_IN_CGROUP")
    if [ -n "$opts" ]; then
        bg "$name" "${in_cgroup[@]}" env -u MALLOC_ARENA_MAX -u MALLOC_MMAP_THRESHOLD_ TUNNEL_TOKEN="$TOKEN" JAVA_TOOL_OPTIONS="$opts" "${extra_env[@]}" "$javabin" "$@"
    else
        bg "$name" "${in_cgroup[@]}" env -u JAVA_TOOL_OPTIONS -u MALLOC_ARENA_MAX -u MALLOC_MMAP_THRESHOLD_ TUNNEL_TOKEN="$TOKEN" "${extra_env[@]}" "$javabin" "$@"
    fi
}

fp_wrk() { # fp_wrk PORT HOST SECONDS -> BENCHJSON line (empty on failure)
    BENCH_HOST=$2 timeout $(($3 + 30)) wrk -t2 -c50 -d"$3s" --timeout 5s --latency -s "$BENCH_DIR/wrk-report.lua" \
        "http://127.0.0.1:$1/small" 2>&1 | sed -n 's/^BENCHJSON //p'
}

fp_download() { # fp_download PORT HOST -> "code bytes seconds"
    curl -sS --max-time 120 -H "Host: $2" -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
        "http://127.0.0.1:$1/warm" 2>>"$WORK/logs/curl.log" || echo "0 0 0"
}

# footprint_diag NAME PID -> $WORK/raw/footprint.diag.NAME.txt: where the memory is at the end of a
# variant: anonymous vs file-backed RSS, classes loaded, and the NMT summary when the variant runs
# with -XX:NativeMemoryTracking=summary (it costs a few MiB itself: diagnosis only, never the image)
footprint_diag() {
    local name=$1 pid=$2 out="$WORK/raw/footprint.diag.$1.txt" jcmd
    jcmd=$(dirname "$(readlink -f "/proc/$pid/exe")")/jcmd
    [ -x "$jcmd" ] || jcmd=jcmd
    {
        grep -E '^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem|Threads)' "/proc/$pid/status"
        "$jcmd" "$pid" PerfCounter.print 2>/dev/null | grep -E 'java.cls.(loadedClasses|unloadedClasses|sharedLoadedClasses)=' || true
        if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'NativeMemoryTracking' ||
            grep -q 'NativeMemoryTracking' "/proc/$pid/environ" 2>/dev/null; then
            "$jcmd" "$pid" VM.native_memory summary 2>/dev/null || true
        fi
    } >"$out" 2>&1
}
