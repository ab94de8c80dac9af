# Sourced by bench/run.sh: what a load case measures besides wrk's numbers (issue 18), for the
# processes that do a target's work (PROCS_OF: "label=pid ...", a pid's descendants counting with it).
#   - CPU per request, always: utime + stime from /proc before and after the measured run;
#   - syscalls and context switches per request, with BENCH_COUNTERS=1 or BENCH_PROFILE set: perf stat
#     in counting mode (a tracepoint count per syscall, no sampling), one per process;
#   - async-profiler flame graphs of the tunnel's JVMs, with BENCH_PROFILE=cpu|alloc|wall; with alloc
#     the collapsed stacks count bytes, and their sum over the requests is the bytes allocated per request.
# Uses log, WORK, RESULTS, ROOT from run.sh.

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime + stime, all threads
tree_pids() { # tree_pids PID: PID and its live descendants, one per line
    local child
    echo "$1"
    for child in $(pgrep -P "$1" 2>/dev/null || true); do tree_pids "$child"; done
}
tree_ticks() { # tree_ticks PID: CPU ticks of PID and its live descendants
    local total child
    total=$(cpu_ticks "$1")
    for child in $(pgrep -P "$1" 2>/dev/null || true); do total=$((total + $(tree_ticks "$child"))); done
    echo "$total"
}
procs_cpu() { # procs_cpu TARGET -> "label=ticks ..." for the target's processes
    local entry out=""
    for entry in ${PROCS_OF[$1]:-}; do out+="${entry%%=*}=$(tree_ticks "${entry#*=}") "; done
    echo "$out"
}
cpu_json() { # cpu_json "label=ticks ..." (before) "label=ticks ..." (after) -> {"clk_tck":N,"ticks":{label:delta}}
    python3 - "$1" "$2" "$(getconf CLK_TCK)" <<'PY'
import json, sys
before = dict(e.split("=") for e in sys.argv[1].split())
after = dict(e.split("=") for e in sys.argv[2].split())
print(json.dumps({"clk_tck": int(sys.argv[3]),
                  "ticks": {k: int(after[k]) - int(v) for k, v in before.items() if k in after}}))
PY
}

# ------------------------------------------------------------------ profiles (issue 18)
# BENCH_PROFILE=cpu|alloc|wall attaches async-profiler (Maven Central's tools.profiler:async-profiler,
# this platform's native library) to the tunnel's two JVMs for the measured load of each case in
# BENCH_PROFILE_CASES, and writes one flame graph per JVM and case to bench/results/profiles/.
PROFILE_EVENT=${BENCH_PROFILE:-}
PROFILE_CASES=${BENCH_PROFILE_CASES:-small-c50,small-c256}
ASYNC_PROFILER_VERSION=4.2
PROFILER_LIB=""
ensure_profiler() {
    [ -n "$PROFILE_EVENT" ] || return 1
    [ -n "$PROFILER_LIB" ] && return 0
    local arch jar
    case "$(uname -m)" in x86_64) arch=linux-x64 ;; aarch64) arch=linux-arm64 ;; *) log "no async-profiler for $(uname -m)"; PROFILE_EVENT=""; return 1 ;; esac
    jar=$HOME/.m2/repository/tools/profiler/async-profiler/$ASYNC_PROFILER_VERSION/async-profiler-$ASYNC_PROFILER_VERSION-$arch.jar
    if [ ! -f "$jar" ]; then
        (cd "$ROOT" && ./mvnw -B -q dependency:get -Dartifact="tools.profiler:async-profiler:$ASYNC_PROFILER_VERSION:jar:$arch") \
            >"$WORK/logs/mvn-profiler.log" 2>&1 || true
    fi
    if [ ! -f "$jar" ]; then log "async-profiler $ASYNC_PROFILER_VERSION not available; no profiles"; PROFILE_EVENT=""; return 1; fi
    mkdir -p "$WORK/profiler" "$RESULTS/profiles"
    (cd "$WORK/profiler" && unzip -q -o "$jar" "$arch/libasyncProfiler.so")
    PROFILER_LIB=$WORK/profiler/$arch/libasyncProfiler.so
}
profiling() { [ "$2" = tunnel ] && case ",$PROFILE_CASES," in *",$1,"*) ensure_profiler ;; *) return 1 ;; esac; }
profile_start() { # profile_start CASE TARGET
    profiling "$1" "$2" || return 0
    local entry
    for entry in ${PROCS_OF[$2]}; do
        # the quotes keep jcmd from reading the agent's "a=b" options as its own
        jcmd "${entry#*=}" JVMTI.agent_load "$PROFILER_LIB" "\"start,event=$PROFILE_EVENT,interval=${BENCH_PROFILE_INTERVAL:-1ms}\"" \
            >>"$WORK/logs/profiler.log" 2>&1 || log "profiler did not attach to ${entry%%=*}"
    done
}
profile_stop() { # profile_stop CASE TARGET: flame graphs to bench/results/profiles/CASE.LABEL.EVENT.html
    profiling "$1" "$2" || return 0
    local entry out
    for entry in ${PROCS_OF[$2]}; do
        out=$RESULTS/profiles/$1.${entry%%=*}.$PROFILE_EVENT.html
        # the same samples as collapsed stacks too: text that can be grepped and summed
        # (alloc: counted in bytes, "total", so they sum to the bytes allocated during the run)
        jcmd "${entry#*=}" JVMTI.agent_load "$PROFILER_LIB" "\"dump,collapsed$([ "$PROFILE_EVENT" = alloc ] && echo ,total),file=${out%.html}.collapsed\"" \
            >>"$WORK/logs/profiler.log" 2>&1 || true
        if [ "$PROFILE_EVENT" = alloc ] && [ -s "${out%.html}.collapsed" ]; then
            echo "${entry%%=*}=$(awk '{ s += $NF } END { printf "%d", s }' "${out%.html}.collapsed")" >>"$WORK/raw/$1.$2.alloc.txt"
        fi
        jcmd "${entry#*=}" JVMTI.agent_load "$PROFILER_LIB" "\"stop,file=$out,title=$1-${entry%%=*}-$PROFILE_EVENT\"" \
            >>"$WORK/logs/profiler.log" 2>&1 || true
        if [ -s "$out" ]; then log "profile: $out"; else log "no profile from ${entry%%=*} (logs/profiler.log)"; fi
    done
}

# ------------------------------------------------------------------ counters (issue 18)
COUNTERS=${BENCH_COUNTERS:-0}
[ -n "${BENCH_PROFILE:-}" ] && COUNTERS=1
declare -A COUNTER_PIDS
counters_start() { # counters_start TARGET: one perf stat per process of the target, until counters_stop
    [ "$COUNTERS" = 1 ] || return 0
    if ! command -v perf >/dev/null 2>&1; then log "BENCH_COUNTERS: no perf on PATH (Debian: linux-perf); no counters"; COUNTERS=0; return 0; fi
    local entry label pids
    for entry in ${PROCS_OF[$1]:-}; do
        label=${entry%%=*}
        pids=$(tree_pids "${entry#*=}" | paste -sd, -)
        perf stat -x, -o "$WORK/raw/counters.$1.$label.csv" -e raw_syscalls:sys_enter,context-switches -p "$pids" \
            >>"$WORK/logs/perf.log" 2>&1 &
        COUNTER_PIDS[$label]=$!
    done
}
counters_stop() { # counters_stop CASE TARGET -> $WORK/raw/CASE.TARGET.counters.json {label: {syscalls, context_switches}}
    [ "$COUNTERS" = 1 ] || return 0
    local label
    for label in "${!COUNTER_PIDS[@]}"; do kill -INT "${COUNTER_PIDS[$label]}" 2>/dev/null || true; done
    for label in "${!COUNTER_PIDS[@]}"; do wait "${COUNTER_PIDS[$label]}" 2>/dev/null || true; done
    COUNTER_PIDS=()
    python3 - "$WORK/raw" "$2" >"$WORK/raw/$1.$2.counters.json" <<'PY'
import glob, json, os, sys
raw, target = sys.argv[1], sys.argv[2]
out = {}
for path in glob.glob(os.path.join(raw, f"counters.{target}.*.csv")):
    label = path.rsplit(".", 2)[1]
    counts = {}
    for line in open(path):
        cols = line.strip().split(",")
        if len(cols) > 2 and cols[0].replace(".", "").isdigit():
            key = {"raw_syscalls:sys_enter": "syscalls", "context-switches": "context_switches"}.get(cols[2])
            if key:
                counts[key] = int(float(cols[0]))
    out[label] = counts
    os.remove(path)
print(json.dumps(out))
PY
}
