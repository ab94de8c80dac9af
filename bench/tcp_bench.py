#!/usr/bin/env python3
"""TCP route benchmark helpers for bench/run.sh's tcp-1gib case.

  tcp_bench.py source PORT        a TCP source on 127.0.0.1:PORT: a client sends "N\\n"; the server
                                  sends N zero bytes (N = 0: one byte) and closes
  tcp_bench.py bulk MIB ROUNDS WARMUP_S NAME=PORT...
                                  for each target NAME (a port leading to the source) WARMUP_S seconds of
                                  unmeasured MIB MiB transfers (each on a new connection), then ROUNDS rounds of one MIB MiB transfer per target
                                  (each on a new connection), the targets taking turns within a round
                                  so that both see the same machine; prints {NAME: {"bytes", "seconds",
                                  "mbps" of its median round, "rounds_mbps"}}. One 1 GiB transfer lasts
                                  about a second: too short for a single sample, and a JVM's first one
                                  includes compiling the path
  tcp_bench.py churn PORT SECS    short connections in a row for SECS seconds (each: "0\\n", one byte
                                  back, close); prints {"connections", "errors", "seconds", "per_s"}
"""
import json
import socket
import socketserver
import sys
import time

CHUNK = memoryview(bytes(1 << 20))


class Source(socketserver.BaseRequestHandler):
    def handle(self):
        line = b""
        while not line.endswith(b"\n"):
            got = self.request.recv(64)
            if not got:
                return
            line += got
        n = int(line.strip() or b"0")
        if n == 0:
            self.request.sendall(b"x")
            return
        while n > 0:
            k = min(n, len(CHUNK))
            self.request.sendall(CHUNK[:k])
            n -= k
        self.request.shutdown(socket.SHUT_WR)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


def transfer(port, mib):
    want = mib * 1024 * 1024
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"%d\n" % want)
        buf = bytearray(1 << 20)
        got = 0
        while True:
            k = s.recv_into(buf)
            if k == 0:
                break
            got += k
    secs = time.monotonic() - start
    ok = got == want
    return {"bytes": got, "expected_bytes": want, "seconds": round(secs, 3),
            "mbps": round(got / secs / 1e6, 1) if ok else None, "ok": ok}


def bulk(mib, rounds, warmup_s, targets):
    runs = {name: [] for name in targets}
    failed = {}
    # warm-up: transfers of the measured size, each on a new connection (one long transfer leaves the
    # per-connection code to be compiled during the measured rounds), for warmup_s seconds
    for name, port in targets.items():
        until = time.monotonic() + warmup_s
        while time.monotonic() < until and name not in failed:
            if not transfer(port, mib)["ok"]:
                failed[name] = {"ok": False, "error": "warm-up transfer incomplete"}
    for _ in range(rounds):
        for name, port in targets.items():
            if name not in failed:
                runs[name].append(transfer(port, mib))
    out = {}
    for name in targets:
        done = runs[name]
        if name in failed or not done or not all(r["ok"] for r in done):
            out[name] = failed.get(name) or {"ok": False, "rounds": done}
            continue
        median = sorted(done, key=lambda r: r["mbps"])[len(done) // 2]
        out[name] = dict(median, warmup_s=warmup_s, rounds_mbps=[r["mbps"] for r in done])
    print(json.dumps(out))


def churn(port, secs):
    end = time.monotonic() + secs
    start = time.monotonic()
    n = errors = 0
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"0\n")
                if s.recv(1) != b"x":
                    errors += 1
        except OSError:
            errors += 1
        n += 1
    took = time.monotonic() - start
    print(json.dumps({"connections": n, "errors": errors, "seconds": round(took, 3),
                      "per_s": round(n / took, 1)}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "source":
        Server(("127.0.0.1", int(sys.argv[2])), Source).serve_forever()
    elif mode == "bulk":
        bulk(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
             {name: int(port) for name, port in (a.split("=", 1) for a in sys.argv[5:])})
    elif mode == "churn":
        churn(int(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.exit(__doc__)
