# shellcheck shell=bash
# Real memory limits for the footprint case (issue 15), sourced by bench/footprint.sh: a memory cgroup
# per agent variant, as a container's, so the kernel enforces the limit (its OOM killer included) and
# the JVM sizes itself from the cgroup as it does in the image, instead of being told -XX:MaxRAM.
#
# Needs root and a writable memory controller: cgroup v1 (/sys/fs/cgroup/memory) or cgroup v2 with
# the memory controller enabled for the children of /sys/fs/cgroup. Without them memcg_create fails
# and the caller falls back to -XX:MaxRAM.

MEMCG_PREFIX="edge-bench-$$"
MEMCG_DIRS=()

# memcg_root: the directory new memory cgroups go under, and its version ("DIR v1" or "DIR v2")
memcg_root() {
    if [ -w /sys/fs/cgroup/memory ] && [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
        echo "/sys/fs/cgroup/memory v1"
    elif [ -w /sys/fs/cgroup ] && grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
        echo "/sys/fs/cgroup v2"
    else
        return 1
    fi
}

# memcg_create NAME LIMIT_BYTES: a fresh memory cgroup limited to LIMIT_BYTES (swap off for it where
# the kernel allows), its directory left in MEMCG_DIR (not echoed: call it outside a subshell, so
# memcg_cleanup knows it)
memcg_create() {
    MEMCG_DIR=
    local parent version dir
    read -r parent version <<<"$(memcg_root)" || return 1
    [ -n "$parent" ] || return 1
    dir="$parent/$MEMCG_PREFIX-$1"
    mkdir "$dir" 2>/dev/null || return 1
    MEMCG_DIRS+=("$dir")
    if [ "$version" = v1 ]; then
        echo "$2" >"$dir/memory.limit_in_bytes" 2>/dev/null || { memcg_remove "$dir"; return 1; }
        # memory and swap together capped at the limit: no swap (when the kernel accounts swap)
        [ ! -f "$dir/memory.memsw.limit_in_bytes" ] || echo "$2" >"$dir/memory.memsw.limit_in_bytes" 2>/dev/null || true
        echo 0 >"$dir/memory.swappiness" 2>/dev/null || true
    else
        echo "$2" >"$dir/memory.max" 2>/dev/null || { memcg_remove "$dir"; return 1; }
        echo 0 >"$dir/memory.swap.max" 2>/dev/null || true
    fi
    MEMCG_DIR=$dir
}

# "${MEMCG_JOIN[@]}" DIR CMD...: a shell that joins the cgroup DIR, then becomes CMD (the same pid, so
# a caller's $! is CMD's)
# shellcheck disable=SC2016 # expanded by that shell, not this one
MEMCG_JOIN=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"')

# memcg_jvm_limit DIR JAVA: the memory limit the JVM reads inside the cgroup ("128.00M"; empty when it
# sees none, e.g. a JVM without support for this cgroup version)
memcg_jvm_limit() {
    timeout 60 "${MEMCG_JOIN[@]}" "$1" "$2" -XshowSettings:system -version 2>&1 | sed -n 's/^ *Memory Limit: *//p' | head -n 1
}

# memcg_probe JAVA LIMIT_BYTES: whether a cgroup can be made and JAVA reads exactly its limit; leaves what
# it is in MEMCG_PROBE ("cgroup v1, the JVM reads 128.00M") or fails (run it outside a subshell too)
memcg_probe() {
    local seen version
    MEMCG_PROBE=""
    memcg_create probe "$2" || return 1
    seen=$(memcg_jvm_limit "$MEMCG_DIR" "$1")
    version=$(memcg_root | cut -d' ' -f2)
    memcg_remove "$MEMCG_DIR" || true
    [ "$seen" = "$(($2 / 1024 / 1024)).00M" ] || return 1
    # shellcheck disable=SC2034 # read by footprint.sh
    MEMCG_PROBE="cgroup $version, the JVM reads $seen"
}

# memcg_stats DIR: the cgroup's peak charge (process memory plus the page cache it caused), how often it
# hit the limit and how many processes the kernel's OOM killer took, as JSON
memcg_stats() {
    local dir=$1 peak=null hits=null kills=null version=v2
    if [ -f "$dir/memory.max_usage_in_bytes" ]; then
        version=v1
        peak=$(cat "$dir/memory.max_usage_in_bytes")
        hits=$(cat "$dir/memory.failcnt")
        kills=$(sed -n 's/^oom_kill //p' "$dir/memory.oom_control")
    else
        [ -f "$dir/memory.peak" ] && peak=$(cat "$dir/memory.peak")
        hits=$(sed -n 's/^max //p' "$dir/memory.events")
        kills=$(sed -n 's/^oom_kill //p' "$dir/memory.events")
    fi
    echo "{\"version\":\"$version\",\"peak_bytes\":${peak:-null},\"limit_hits\":${hits:-null},\"oom_kills\":${kills:-null}}"
}

# memcg_remove DIR: removes the cgroup once its processes have gone (a few tries)
memcg_remove() {
    local _
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ -d "$1" ] || return 0
        rmdir "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# memcg_cleanup: removes every cgroup this run made (run.sh's exit, after its processes are stopped)
memcg_cleanup() {
    local dir
    for dir in "${MEMCG_DIRS[@]}"; do memcg_remove "$dir" || true; done
}
