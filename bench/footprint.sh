# shellcheck shell=bash
# The footprint case (issue 15), sourced by bench/run.sh: memory and start time of the agent as it
# runs in its container, against the JVM's default options, with OpenSSH's client as the reference.
#
# One fresh ingress runs with the options of its image (ingress-service/pom.xml) as in a 1 GiB
# task (-XX:MaxRAM=1g). Each agent variant runs against it, serving NAME.footprint.local from the
# upstream nginx, and is measured:
#   ready_ms     process start -> readiness UP (tunnel registered), polled every 50 ms
#   idle RSS     5 s after ready, no traffic
#   c50          warm-up, then wrk -c50 for the measured duration; req/s, errors, peak RSS (VmHWM)
#   transfer     a 256 MiB download through the tunnel; bytes checked, peak RSS (VmHWM) after it
#   alive        the process still runs and logged no OutOfMemoryError
# A round runs the default and the image variant side by side (footprint_pair): they start one after
# the other, and their measured c50 alternates in slices (A B B A ...), so a machine whose speed drifts
# during the round (other tenants) weighs on both alike; nothing else runs while one is loaded.
# Variants: "default" (no JVM options at all: this machine's ergonomics) and "image" (the options
# of the agent image, read from edge-agent/pom.xml, in the 128 MiB container issue 15 sets the
# targets for: a memory cgroup of 128 MiB of its own, which the JVM reads and the kernel enforces,
# where one can be made (root, bench/memcg.sh), else -XX:MaxRAM=128m; with the image's other
# environment, glibc's MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_), both on the image's
# JDK (25: BENCH_IMAGE_JAVA or one found in /usr/lib/jvm; the ingress too), in
# BENCH_FOOTPRINT_ROUNDS rounds; then, each on its own, any in BENCH_FOOTPRINT_VARIANTS="name|java|options|ENV=v ...|launch;..."
# (java empty = java on PATH; launch empty = -jar of the agent's executable jar). The rounds' default
# and image variants both run in the image's class-path layout (its jar and libraries on a plain class
# path, no nested-jar loader, like Jib's container's classes and libs), so the two differ in their
# options only; -jar's nested-jar loader alone takes about a third longer to start. Options that name a CDS archive (-XX:SharedArchiveFile) first get
# a training run, as a deployment would make the archive. Each variant also leaves
# raw/footprint.diag.NAME.txt (RSS split, classes loaded, NMT summary when its options turn NMT on).

FOOTPRINT_HOST=footprint.local
FOOTPRINT_AGENT_LIMIT=128m
FOOTPRINT_AGENT_LIMIT_BYTES=$((128 * 1024 * 1024))
# FP_CGROUP: what the image's rounds run in when not empty (BENCH_FOOTPRINT_CGROUP=off: never)
# shellcheck source=bench/memcg.sh
. "$BENCH_DIR/memcg.sh"
FP_CGROUP=""
FOOTPRINT_INGRESS_LIMIT=1g
FOOTPRINT_MIB=256
# per agent variant (by name): pid, host served, options as reported, java, ready ms, idle KiB, c50 JSON, peak KiB
declare -A FP_PID FP_HOST FP_DESC FP_JAVABIN FP_READY FP_IDLE FP_C50 FP_HWM_C50 FP_CG FP_QUIET

# shellcheck source=bench/footprint-lib.sh
. "$BENCH_DIR/footprint-lib.sh"

# fp_start NAME JAVA OPTIONS ENV [LAUNCH] [CGROUP]: starts agent variant NAME, serving NAME.footprint.local from the
# upstream; waits for readiness and takes its idle RSS 5 s later. LAUNCH replaces "-jar $AGENT_JAR" (e.g.
# "-cp DIR/app.jar:DIR/lib/* MAIN", fp_image_layout's: the image's layout, which a CDS archive needs); CGROUP
# "yes" runs it in a memory cgroup of its own, limited as the container. Records the variant in the FP_*
# arrays; fails when it never got ready.
fp_start() {
    local name=$1 javabin=$2 opts=$3 envs=$4 port pid t0 launch FP_IN_CGROUP=""
    read -r -a launch <<<"${5:-}"
    [ "${#launch[@]}" -gt 0 ] || launch=(-jar "$AGENT_JAR")
    port=$(free_port)
    FP_HOST[$name]="$name.$FOOTPRINT_HOST"
    FP_DESC[$name]="$opts${envs:+ ($envs)}"
    FP_CG[$name]=""
    if [ "${6:-}" = yes ]; then
        if memcg_create "$name" "$FOOTPRINT_AGENT_LIMIT_BYTES"; then
            FP_IN_CGROUP=$MEMCG_DIR FP_CG[$name]=$MEMCG_DIR
            FP_DESC[$name]+=" [in a memory cgroup of $FOOTPRINT_AGENT_LIMIT, $FP_CGROUP]"
        else
            # never unlimited: without its cgroup the variant gets the limit as an option
            log "footprint: WARNING: no memory cgroup for '$name'; -XX:MaxRAM=$FOOTPRINT_AGENT_LIMIT instead"
            opts+=" -XX:MaxRAM=$FOOTPRINT_AGENT_LIMIT"
            FP_DESC[$name]="$opts${envs:+ ($envs)}"
        fi
    fi
    FP_JAVABIN[$name]=${javabin:-java}
    FP_READY[$name]=null FP_IDLE[$name]=null FP_C50[$name]='{}' FP_HWM_C50[$name]=null
    log "footprint: agent '$name' (${opts:-no options}${envs:+; $envs}; ${launch[*]})${FP_IN_CGROUP:+ in $FP_IN_CGROUP}"
    if FP_QUIET[$name]=$(fp_wait_quiet) && [ -n "${FP_QUIET[$name]}" ]; then
        log "footprint: '$name' starts after ${FP_QUIET[$name]% *} ms of waiting for idle CPUs (${FP_QUIET[$name]#* } % idle)"
    else
        FP_QUIET[$name]=""
        log "footprint: WARNING: the wait for idle CPUs before '$name' failed; it starts now"
    fi
    t0=$(now_ms)
    footprint_java "$javabin" "$opts" "$envs" "fp-agent-$name" -- "${launch[@]}" --spring.profiles.active=local \
        --server.port="$port" --management.server.port="$port" --agent.id="footprint-$name" \
        --agent.ingress-uri="ws://127.0.0.1:$FP_ING_TUNNEL/tunnel" \
        "--agent.routes[0].host=${FP_HOST[$name]}" "--agent.routes[0].local-url=http://127.0.0.1:$UP_PORT" \
        "${LOG_ARGS[@]}"
    pid=$LAST_PID
    FP_PID[$name]=$pid
    wait_ready_ms "http://127.0.0.1:$port/actuator/health/readiness" "$pid" 60 || return 1
    FP_READY[$name]=$(($(now_ms) - t0))
    sleep 5
    FP_IDLE[$name]=$(rss_kib "$pid")
    log "footprint: agent '$name' ready in ${FP_READY[$name]} ms, idle RSS $((FP_IDLE[$name] / 1024)) MiB"
}

# fp_warm NAME: the c50 warm-up, so the JIT has compiled the request path before anything is measured
fp_warm() {
    log "footprint: agent '$1' c50 warm-up ${FP_WARMUP}s"
    fp_wrk "$FP_ING_PORT" "${FP_HOST[$1]}" "$FP_WARMUP" >/dev/null
}

# fp_finish NAME: peak RSS so far, the download, the end state; writes $WORK/raw/footprint.agent.NAME.json
# and stops the variant
fp_finish() {
    local name=$1 out="$WORK/raw/footprint.agent.$1.json" pid=${FP_PID[$1]} dl="" hwm_all=null rss_end=null
    local alive=false oom=false cg_stats=null
    if [ "${FP_READY[$name]}" != null ]; then
        dl=$(fp_download "$FP_ING_PORT" "${FP_HOST[$name]}")
        hwm_all=$(hwm_kib "$pid")
        rss_end=$(rss_kib "$pid")
        kill -0 "$pid" 2>/dev/null && alive=true
        footprint_diag "$name" "$pid"
    fi
    [ -n "${dl:-}" ] || dl='0 0 0'
    # the options line ("Picked up JAVA_TOOL_OPTIONS") names ExitOnOutOfMemoryError: match the errors only
    grep -Eq 'java\.lang\.OutOfMemoryError|OutOfDirectMemoryError|Terminating due to' "$WORK/logs/fp-agent-$name.log" && oom=true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if [ -n "${FP_CG[$name]}" ]; then
        cg_stats=$(memcg_stats "${FP_CG[$name]}")
        memcg_remove "${FP_CG[$name]}" || true
    fi
    python3 - "$out" "$name" "${FP_DESC[$name]}" "${FP_JAVABIN[$name]}" "${FP_READY[$name]}" "${FP_IDLE[$name]}" \
        "${FP_C50[$name]}" "${FP_HWM_C50[$name]}" "$dl" "$hwm_all" "$rss_end" "$alive" "$oom" \
        "$((FOOTPRINT_MIB * 1024 * 1024))" "$cg_stats" "${FP_QUIET[$name]:-}" <<'PY'
import json, sys
(path, name, opts, java, ready, idle, c50, hwm_c50, dl, hwm_all, rss_end, alive, oom, size, cgroup, quiet) = sys.argv[1:]
num = lambda v: None if v in ("", "null") else int(v)
code, nbytes, secs = dl.split()
json.dump({"name": name, "options": opts, "java": java, "ready_ms": num(ready), "idle_rss_kib": num(idle),
           "c50": json.loads(c50), "peak_rss_c50_kib": num(hwm_c50),
           "download": {"status": int(code), "bytes": int(nbytes), "seconds": float(secs),
                        "ok": int(code) == 200 and int(nbytes) == int(size)},
           "peak_rss_kib": num(hwm_all), "rss_end_kib": num(rss_end),
           "alive": alive == "true", "oom": oom == "true", "cgroup": json.loads(cgroup),
           "quiet_before_start": ({"waited_ms": int(quiet.split()[0]), "idle_percent": float(quiet.split()[1])}
                                  if quiet else None)},
          open(path, "w"))
PY
}

# footprint_agent NAME JAVA OPTIONS ENV [LAUNCH]: one variant on its own (BENCH_FOOTPRINT_VARIANTS): ready,
# idle, warm-up, c50 for the measured duration, download -> $WORK/raw/footprint.agent.NAME.json
footprint_agent() {
    if fp_start "$@"; then
        fp_warm "$1"
        FP_C50[$1]=$(fp_wrk "$FP_ING_PORT" "${FP_HOST[$1]}" "$FP_DURATION")
        [ -n "${FP_C50[$1]}" ] || FP_C50[$1]='{}'
        FP_HWM_C50[$1]=$(hwm_kib "${FP_PID[$1]}")
    fi
    fp_finish "$1"
}

# footprint_pair A B OPTIONS ENV LAUNCH: one round of the default (A, no options) against the image's options
# (B), both launched by LAUNCH, side by side: both start (A first, each measured for ready and idle on its own), both warm up, then
# the measured c50 runs in BENCH_FOOTPRINT_SLICES slices per variant, alternating A B B A A B B A ..., so a
# machine that speeds up or slows down during the round (other tenants, CPU boost) weighs on both alike;
# each variant's c50 is the sum of its slices (req/s over their total time, the worst slice's p99). Then
# each downloads in turn, and both stop.
footprint_pair() {
    local a=$1 b=$2 slices=${BENCH_FOOTPRINT_SLICES:-4} secs i name first second ready_a=no ready_b=no
    local parts_a=() parts_b=()
    secs=$(((FP_DURATION + slices - 1) / slices))
    # both always start and are always written out: a variant that never got ready (or whose partner
    # did not) has no c50, which the report counts against the round instead of leaving it out
    fp_start "$a" "$FP_JAVA" "" "" "$5" && ready_a=yes
    fp_start "$b" "$FP_JAVA" "$3" "$4" "$5" "${FP_CGROUP:+yes}" && ready_b=yes
    if [ "$ready_a$ready_b" = yesyes ]; then
        fp_warm "$a"
        fp_warm "$b"
        log "footprint: '$a' and '$b' c50, $slices slices of ${secs}s each, alternating"
        for i in $(seq 1 "$slices"); do
            if [ $((i % 2)) = 1 ]; then first=$a second=$b; else first=$b second=$a; fi
            for name in "$first" "$second"; do
                if [ "$name" = "$a" ]; then
                    parts_a+=("$(fp_wrk "$FP_ING_PORT" "${FP_HOST[$name]}" "$secs")")
                else
                    parts_b+=("$(fp_wrk "$FP_ING_PORT" "${FP_HOST[$name]}" "$secs")")
                fi
            done
        done
        FP_C50[$a]=$(fp_merge_slices "${parts_a[@]}")
        FP_C50[$b]=$(fp_merge_slices "${parts_b[@]}")
        FP_HWM_C50[$a]=$(hwm_kib "${FP_PID[$a]}")
        FP_HWM_C50[$b]=$(hwm_kib "${FP_PID[$b]}")
    fi
    fp_finish "$a"
    fp_finish "$b"
}

# fp_merge_slices JSON...: one wrk result from slices: requests, time, errors and statuses summed; req/s
# over the total; latency percentiles the worst slice's (a slice that failed makes it '{}')
fp_merge_slices() {
    python3 - "$@" <<'PY'
import json, sys
parts = sys.argv[1:]
if not parts or any(not p.strip() for p in parts):
    print("{}")
    sys.exit(0)
slices = [json.loads(p) for p in parts]
out = {"slices": len(slices)}
for k in ("requests", "bytes", "errors", "err_connect", "err_read", "err_write", "err_status", "err_timeout"):
    out[k] = sum(s.get(k, 0) for s in slices)
out["duration_s"] = round(sum(s["duration_s"] for s in slices), 3)
out["rps"] = round(out["requests"] / out["duration_s"], 1) if out["duration_s"] else 0
for k in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"):
    out[k] = max(s.get(k, 0) for s in slices)
out["mean_ms"] = round(sum(s.get("mean_ms", 0) * s["requests"] for s in slices) / max(1, out["requests"]), 3)
statuses = {}
for s in slices:
    for code, n in (s.get("statuses") or {}).items():
        statuses[code] = statuses.get(code, 0) + n
out["statuses"] = statuses
print(json.dumps(out))
PY
}

footprint_ssh() { # the reference: OpenSSH's client (ssh -R) idle, under the same c50 and download
    local out="$WORK/raw/footprint.ssh.json" idle c50 hwm_c50 dl hwm_all
    if [ -z "${SSH_CLIENT_PID:-}" ] || ! kill -0 "$SSH_CLIENT_PID" 2>/dev/null; then
        echo '{"status":"ssh -R not running"}' >"$out"
        return 0
    fi
    idle=$(rss_kib "$SSH_CLIENT_PID")
    log "footprint: ssh client (idle RSS $((idle / 1024)) MiB), c50 ${FP_DURATION}s and ${FOOTPRINT_MIB} MiB"
    c50=$(fp_wrk "$SSH_PORT" "$HOST_HEADER" "$FP_DURATION")
    hwm_c50=$(hwm_kib "$SSH_CLIENT_PID")
    dl=$(fp_download "$SSH_PORT" "$HOST_HEADER")
    hwm_all=$(hwm_kib "$SSH_CLIENT_PID")
    [ -n "$c50" ] || c50='{}'
    python3 - "$out" "$idle" "$c50" "$hwm_c50" "$dl" "$hwm_all" "$(ssh -V 2>&1)" <<'PY'
import json, sys
path, idle, c50, hwm_c50, dl, hwm_all, version = sys.argv[1:]
code, nbytes, secs = dl.split()
json.dump({"status": "ok", "version": version, "idle_rss_kib": int(idle), "c50": json.loads(c50),
           "peak_rss_c50_kib": int(hwm_c50), "peak_rss_kib": int(hwm_all),
           "download": {"status": int(code), "bytes": int(nbytes), "seconds": float(secs)}}, open(path, "w"))
PY
}

footprint_case() {
    has_case footprint || return 0
    local meta="$WORK/raw/footprint.meta.json" ing_opts agent_opts t0 ready idle spec
    FP_WARMUP=${BENCH_FOOTPRINT_WARMUP:-20}
    FP_DURATION=${BENCH_FOOTPRINT_DURATION:-20}
    if [ "${TOKEN:-}" = "" ]; then TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+='); fi
    if ! ensure_jars; then
        echo "{\"kind\":\"footprint\",\"status\":\"$TUNNEL_STATUS\"}" >"$meta"
        return 0
    fi
    ing_opts="$(image_java_tool_options ingress-service) -XX:MaxRAM=$FOOTPRINT_INGRESS_LIMIT"
    agent_opts=$(image_java_tool_options edge-agent)
    # the image's archive lives on a volume; here in the work dir, trained as the deployment does
    agent_opts=$(sed "s|-XX:SharedArchiveFile=[^ ]*|-XX:SharedArchiveFile=$WORK/fp-image/agent.jsa|" <<<"$agent_opts")
    FP_JAVA=$(fp_image_java)
    if [ "$("$FP_JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')" -lt 25 ] 2>/dev/null; then
        log "footprint: WARNING: no JDK 25 (BENCH_IMAGE_JAVA); $FP_JAVA runs without -XX:+UseCompactObjectHeaders and --sun-misc-unsafe-memory-access"
        agent_opts=$(sed -E 's/ ?(-XX:\+UseCompactObjectHeaders|-XX:CompileCommand=MemLimit,[^ ]+|--sun-misc-unsafe-memory-access=[a-z]+)//g' <<<"$agent_opts")
        ing_opts=$(sed -E 's/ ?--sun-misc-unsafe-memory-access=[a-z]+//g' <<<"$ing_opts")
    fi
    local image_launch="" training="0 0 0" agent_limit
    # the container's limit: a real memory cgroup (the JVM reads it, the kernel enforces it), else MaxRAM
    FP_CGROUP=""
    if [ "${BENCH_FOOTPRINT_CGROUP:-auto}" != off ] && memcg_probe "$FP_JAVA" "$FOOTPRINT_AGENT_LIMIT_BYTES"; then
        FP_CGROUP=$MEMCG_PROBE
    fi
    if [ -n "$FP_CGROUP" ]; then
        agent_limit="memory cgroup of $FOOTPRINT_AGENT_LIMIT ($FP_CGROUP)"
    else
        agent_opts+=" -XX:MaxRAM=$FOOTPRINT_AGENT_LIMIT"
        agent_limit="-XX:MaxRAM=$FOOTPRINT_AGENT_LIMIT (no memory cgroup: BENCH_FOOTPRINT_CGROUP=off, not root, or no memory controller)"
    fi
    log "footprint: the image's agent limited by: $agent_limit"
    # the image's class-path layout, what its container runs (and what a CDS archive needs); -jar if
    # the jar cannot be extracted
    image_launch=$(fp_image_layout "$FP_JAVA") || image_launch=
    FP_ING_PORT=$(free_port)
    local mgmt
    mgmt=$(free_port)
    FP_ING_TUNNEL=$(free_port)
    log "footprint: ingress with its image's options ($ing_opts)"
    t0=$(now_ms)
    footprint_java "$FP_JAVA" "$ing_opts" "" fp-ingress -- -jar "$INGRESS_JAR" --spring.profiles.active=local \
        --server.port="$FP_ING_PORT" --management.server.port="$mgmt" --ingress.tunnel.port="$FP_ING_TUNNEL" \
        "${LOG_ARGS[@]}"
    local ing_pid=$LAST_PID
    if ! wait_ready_ms "http://127.0.0.1:$mgmt/actuator/health/readiness" "$ing_pid" 120; then
        echo '{"kind":"footprint","status":"failed: footprint ingress not ready (see logs/fp-ingress.log)"}' >"$meta"
        return 0
    fi
    ready=$(($(now_ms) - t0))
    sleep 5
    idle=$(rss_kib "$ing_pid")
    footprint_ssh
    local agent_env
    agent_env=$(image_malloc_env edge-agent)
    if [ -n "$image_launch" ] && grep -q -- '-XX:SharedArchiveFile=' <<<"$agent_opts"; then
        log "footprint: CDS archive training (the image's options, -Dspring.context.exit=onRefresh)"
        training=$(fp_archive_training "$FP_JAVA" "$agent_opts" "$agent_env" "$image_launch")
        log "footprint: archive training: ms, peak KiB, archive bytes = $training"
    fi
    # default and image side by side (footprint_pair), BENCH_FOOTPRINT_ROUNDS times (2nd round: default-2,
    # image-2, ...), so a change in what else runs on the machine shows as rounds that disagree
    local round suffix
    for round in $(seq 1 "${BENCH_FOOTPRINT_ROUNDS:-1}"); do
        suffix=""
        [ "$round" = 1 ] || suffix="-$round"
        footprint_pair "default$suffix" "image$suffix" "$agent_opts" "$agent_env" "$image_launch"
    done
    local extra=${BENCH_FOOTPRINT_VARIANTS:-} name javabin opts envs launch specs=()
    IFS=';' read -r -a specs <<<"$extra"
    for spec in "${specs[@]}"; do
        [ -n "$spec" ] || continue
        IFS='|' read -r name javabin opts envs launch <<<"$spec"
        footprint_agent "$name" "$javabin" "$opts" "$envs" "$launch"
    done
    echo "{\"kind\":\"footprint\",\"status\":\"ok\",\"ingress_options\":\"$ing_opts\",\"agent_options\":\"$agent_opts ($agent_env)\",\"ingress_ready_ms\":$ready,\"ingress_idle_rss_kib\":$idle,\"ingress_peak_rss_kib\":$(hwm_kib "$ing_pid"),\"ingress_rss_end_kib\":$(rss_kib "$ing_pid"),\"warmup_s\":$FP_WARMUP,\"duration_s\":$FP_DURATION,\"slices\":${BENCH_FOOTPRINT_SLICES:-4},\"mib\":$FOOTPRINT_MIB,\"agent_limit\":\"$agent_limit\",\"java\":\"$("$FP_JAVA" -version 2>&1 | head -n 1 | tr -d '"')\",\"archive_training\":\"$training\",\"launch\":\"${image_launch:--jar}\"}" >"$meta"
    kill -TERM "$ing_pid" 2>/dev/null || true
}
