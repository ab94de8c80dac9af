#!/usr/bin/env python3
"""Reads async-profiler's collapsed stacks (bench/run.sh with BENCH_PROFILE writes them next to
each flame graph) and prints where the samples went: the JVM's own threads (JIT, GC, VM thread)
first, then, of the application's samples, the share of every layer (our code, Reactor, Netty,
Spring, the JDK, the kernel) by inclusive time, counted once per stack, and the hottest frames.

usage: profile-summary.py FILE.collapsed [TOP]
"""
import collections
import sys

# first match wins, so the more specific prefixes come first
LAYERS = [
    ("ours", ("io/edgetunnel/", "io.edgetunnel.")),
    ("reactor-netty", ("reactor/netty/", "reactor.netty.")),
    ("reactor-core", ("reactor/core/", "reactor.core.")),
    ("netty", ("io/netty/", "io.netty.")),
    ("spring", ("org/springframework/", "org.springframework.")),
    ("micrometer", ("io/micrometer/", "io.micrometer.")),
    ("logging", ("ch/qos/logback/", "org/slf4j/", "ch.qos.logback.", "org.slf4j.")),
    ("jdk", ("java/", "jdk/", "sun/", "java.", "jdk.", "sun.")),
]
# frames only the JVM's own threads run: the JIT compilers, the GC, the VM thread
HOUSEKEEPING = ("CompileBroker::", "VMThread::", "ConcurrentGCThread::", "G1", "WorkerThread::", "GangWorker::")
SYSCALL_HINTS = ("[k]", "_[k]", "entry_SYSCALL", "__x64_sys_", "do_syscall")


def layer_of(frame):
    for name, prefixes in LAYERS:
        if frame.startswith(prefixes):
            return name
    if any(h in frame for h in SYSCALL_HINTS):
        return "kernel"
    return None


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    total = 0
    self_time = collections.Counter()
    layer_time = collections.Counter()
    gc_or_compiler = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            if any(fr.startswith(HOUSEKEEPING) for fr in frames):
                gc_or_compiler += n
                continue
            self_time[frames[-1]] += n
            for layer in {layer_of(fr) for fr in frames} - {None}:
                layer_time[layer] += n
    if not total:
        print(f"{path}: no samples")
        return
    print(f"{path}: {total} samples")
    print(f"  JVM housekeeping (GC, JIT, VM thread): {gc_or_compiler * 100 / total:.1f}%")
    app = total - gc_or_compiler
    if not app:
        return
    print(f"  the rest ({app} samples), inclusive share by layer (a stack counts once per layer):")
    for layer, n in layer_time.most_common():
        print(f"    {layer:<14} {n * 100 / app:5.1f}%")
    print(f"  top {top} frames by self time, of the rest:")
    for frame, n in self_time.most_common(top):
        print(f"    {n * 100 / app:5.1f}%  {frame[:150]}")


if __name__ == "__main__":
    main()
