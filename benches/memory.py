#!/usr/bin/env python3
"""Memory, cachet vs redis-server side by side: RSS growth of three fills,
hot-key survival under eviction, SET throughput while evicting, and how long
clients wait while CONFIG SET maxmemory shrinks a full server.

Usage (paths relative to the repo root):

    cargo build --release
    python3 benches/memory.py                     # every part, ~4 minutes
    python3 benches/memory.py fill hotkeys        # some parts

fill: a fresh server per fill; the protocol stream is written by `redis-cli
--pipe`: 1,000,000 keys of 16 bytes with 10-byte values, the same with
100-byte values, and 100,000 hashes of 10 fields (8-byte names, 8-byte
values). Reported: RSS growth (VmRSS from /proc before and after), used_memory
growth, and the ratio cachet/redis of RSS growth (the target is <= 0.8).

hotkeys: a fresh server with maxmemory 8mb and the policy; 50 hot keys of
100 bytes, then 30,000 values of 1 KB written 200 at a time, the 50 hot keys
read after every 200 writes. Reported: hot keys left at the end, per run.

set-evicting: maxmemory 64mb, allkeys-lru, filled past the limit; then
redis-benchmark -t set -P 16 -d 100 over 10M random keys, rounds alternating
which server goes first; median ops/s and the ratio.

shrink: 500,000 keys of 100 bytes, then CONFIG SET maxmemory to a third of
the data; a second client sends PING in a loop until used_memory is under the
limit. Reported: the longest PING round trip and the time to get under.
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
from compare import DEFAULT_CACHET_BIN, REDIS_SERVER, BenchError, Server, log  # noqa: E402
from expiry_lag import Conn, encode  # noqa: E402


def rss_bytes(server):
    with open("/proc/%d/status" % server.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise BenchError("no VmRSS for %s" % server.name)


def info_field(server, section, field):
    conn = Conn(server.port, timeout=30.0)
    try:
        conn.sock.sendall(encode("INFO", section))
        text = conn.reply().decode()
    finally:
        conn.close()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise BenchError("%s: no %s in INFO %s" % (server.name, field, section))


def call(server, *args):
    conn = Conn(server.port, timeout=30.0)
    try:
        return conn.call(*args)
    finally:
        conn.close()


# --------------------------------------------------------------------------- fill

FILLS = [
    ("1M keys, 10-byte values", "strings10"),
    ("1M keys, 100-byte values", "strings100"),
    ("100k hashes of 10 fields", "hashes"),
]


def write_fill(kind, path):
    with open(path, "wb") as f:
        if kind.startswith("strings"):
            value = b"v" * (10 if kind == "strings10" else 100)
            for n in range(1_000_000):
                f.write(encode("SET", b"key:%012d" % n, value))
        else:
            for n in range(100_000):
                args = ["HSET", b"hash:%011d" % n]
                for i in range(10):
                    args += [b"field:%02d" % i, b"value:%02d" % i]
                f.write(encode(*args))


def pipe_fill(server, path):
    with open(path, "rb") as f:
        done = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                              capture_output=True, timeout=600)
    if done.returncode != 0 or b"errors: 0" not in done.stdout:
        raise BenchError("%s: redis-cli --pipe failed: %s %s"
                         % (server.name, done.stdout[-300:], done.stderr[-300:]))


def run_fill(opts, servers, workdir):
    rows = []
    for title, kind in FILLS:
        path = os.path.join(workdir, kind + ".resp")
        write_fill(kind, path)
        result = {}
        for server in servers:
            server.start()
            try:
                time.sleep(0.5)
                rss0, used0 = rss_bytes(server), int(info_field(server, "memory", "used_memory"))
                pipe_fill(server, path)
                time.sleep(0.5)
                rss1, used1 = rss_bytes(server), int(info_field(server, "memory", "used_memory"))
            finally:
                server.stop()
            result[server.name] = (rss1 - rss0, used1 - used0)
            log("fill %-26s %-6s RSS +%.1f MB, used_memory +%.1f MB"
                % (title, server.name, (rss1 - rss0) / 1e6, (used1 - used0) / 1e6))
        os.unlink(path)
        c, r = result["cachet"], result["redis"]
        rows.append("| %s | %.1f | %.1f | %.2f | %.1f | %.1f |"
                    % (title, c[0] / 1e6, r[0] / 1e6, c[0] / r[0], c[1] / 1e6, r[1] / 1e6))
    print("| fill | cachet RSS growth (MB) | redis RSS growth (MB) | ratio | cachet used_memory growth (MB) | redis used_memory growth (MB) |")
    print("|:---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()


# --------------------------------------------------------------------------- hot keys


def hot_round(server, policy):
    server.start()
    try:
        conn = Conn(server.port, timeout=30.0)
        conn.call("CONFIG", "SET", "maxmemory-policy", policy)
        conn.call("CONFIG", "SET", "maxmemory", "8mb")
        hot = b"h" * 100
        conn.sock.sendall(b"".join(encode("SET", b"hot:%d" % n, hot) for n in range(50)))
        for _ in range(50):
            conn.reply()
        cold = b"c" * 1024
        for batch in range(150):
            conn.sock.sendall(b"".join(encode("SET", b"cold:%d" % (batch * 200 + i), cold)
                                       for i in range(200)))
            for _ in range(200):
                conn.reply()
            conn.sock.sendall(b"".join(encode("GET", b"hot:%d" % n) for n in range(50)))
            for _ in range(50):
                conn.reply()
        conn.sock.sendall(b"".join(encode("EXISTS", b"hot:%d" % n) for n in range(50)))
        kept = sum(int(conn.reply()[1:]) for _ in range(50))
        conn.close()
        return kept
    finally:
        server.stop()


def run_hotkeys(opts, servers):
    print("| policy | server | hot keys kept of 50, per run |")
    print("|:---|:---|:---|")
    for policy in ("allkeys-lru", "allkeys-lfu"):
        for server in servers:
            kept = [hot_round(server, policy) for _ in range(opts.runs)]
            log("hotkeys %s %s %s" % (policy, server.name, kept))
            print("| %s | %s | %s |" % (policy, server.name, ", ".join(map(str, kept))))
    print()


# --------------------------------------------------------------------------- SET while evicting


def benchmark_set(server, requests):
    cmd = compare.pinned(["redis-benchmark", "-p", str(server.port), "-t", "set", "-P", "16",
                          "-c", "50", "-d", "100", "-r", "10000000", "-n", str(requests),
                          "--csv", "-q"], "client")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    for line in done.stdout.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if parts and parts[0].startswith("SET"):
            return float(parts[1])
    raise BenchError("%s: no SET result: %s %s" % (server.name, done.stdout, done.stderr))


def run_set_evicting(opts, servers):
    for server in servers:
        server.start()
        call(server, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        call(server, "CONFIG", "SET", "maxmemory", "64mb")
        benchmark_set(server, 1_000_000)  # fill past the limit
    try:
        ops = {s.name: [] for s in servers}
        ratios = []
        for round_no in range(opts.rounds):
            order = servers if round_no % 2 == 0 else servers[::-1]
            this = {}
            for server in order:
                this[server.name] = benchmark_set(server, opts.requests)
                log("set-evicting round %d %s %.0f ops/s" % (round_no + 1, server.name, this[server.name]))
            for name, value in this.items():
                ops[name].append(value)
            ratios.append(this["cachet"] / this["redis"])
        evicted = {s.name: info_field(s, "stats", "evicted_keys") for s in servers}
        used = {s.name: int(info_field(s, "memory", "used_memory")) for s in servers}
    finally:
        for server in servers:
            server.stop()
    print("| test | cachet ops/s | redis ops/s | ratio (median of rounds) | cachet evicted | redis evicted | cachet used_memory (MB) | redis used_memory (MB) |")
    print("|:---|---:|---:|---:|---:|---:|---:|---:|")
    print("| SET -P 16, maxmemory 64mb allkeys-lru | %s | %s | %.2f | %s | %s | %.1f | %.1f |"
          % (compare.fmt_ops(statistics.median(ops["cachet"])),
             compare.fmt_ops(statistics.median(ops["redis"])), statistics.median(ratios),
             evicted["cachet"], evicted["redis"], used["cachet"] / 1e6, used["redis"] / 1e6))
    print()


# --------------------------------------------------------------------------- shrink


def shrink_round(server, workdir):
    path = os.path.join(workdir, "shrink.resp")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            for n in range(500_000):
                f.write(encode("SET", b"key:%012d" % n, b"v" * 100))
    server.start()
    try:
        base = int(info_field(server, "memory", "used_memory"))
        pipe_fill(server, path)
        used = int(info_field(server, "memory", "used_memory"))
        limit = base + (used - base) // 3
        call(server, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        probe = Conn(server.port, timeout=30.0)
        started = time.monotonic()
        call(server, "CONFIG", "SET", "maxmemory", str(limit))
        worst = 0.0
        while time.monotonic() - started < 60:
            t = time.monotonic()
            probe.call("PING")
            worst = max(worst, time.monotonic() - t)
            if int(info_field(server, "memory", "used_memory")) <= limit:
                break
        else:
            probe.close()
            return worst * 1000, None  # still over the limit after 60 s
        elapsed = time.monotonic() - started
        probe.close()
        return worst * 1000, elapsed * 1000
    finally:
        server.stop()


def run_shrink(opts, servers, workdir):
    print("| server | longest PING while shrinking (ms) | time to get under maxmemory (ms) |")
    print("|:---|---:|---:|")
    for server in servers:
        worst, elapsed = shrink_round(server, workdir)
        under = "still over after 60 s" if elapsed is None else "%.0f ms" % elapsed
        log("shrink %s worst PING %.1f ms, under the limit: %s" % (server.name, worst, under))
        under = under.removesuffix(" ms")
        print("| %s | %.1f | %s |" % (server.name, worst, under))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", default=["fill", "hotkeys", "set-evicting", "shrink"])
    ap.add_argument("--cachet", default=DEFAULT_CACHET_BIN)
    ap.add_argument("--runs", type=int, default=3, help="hot-key runs per policy and server")
    ap.add_argument("--rounds", type=int, default=3, help="set-evicting rounds")
    ap.add_argument("--requests", type=int, default=2_000_000, help="set-evicting requests per round")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                    help="servers on CPU 1, client on CPU 0 (default: on)")
    opts = ap.parse_args()
    if opts.pin:
        compare.PIN.update({"server": "1", "client": "0"})
    started = time.time()
    with tempfile.TemporaryDirectory() as workdir:
        servers = [Server("cachet", opts.cachet, workdir), Server("redis", REDIS_SERVER, workdir)]
        try:
            for part in opts.parts:
                if part == "fill":
                    run_fill(opts, servers, workdir)
                elif part == "hotkeys":
                    run_hotkeys(opts, servers)
                elif part == "set-evicting":
                    run_set_evicting(opts, servers)
                elif part == "shrink":
                    run_shrink(opts, servers, workdir)
                else:
                    raise BenchError("unknown part %r" % part)
        except BenchError as e:
            log("error: %s" % e)
            return 1
        finally:
            for server in servers:
                server.stop()
    print("- command: python3 benches/memory.py %s" % " ".join(sys.argv[1:]))
    print("- cachet: %s (git %s); redis-server %s; pinning: %s"
          % (opts.cachet, compare.git_rev(), compare.redis_version(),
             "servers on CPU 1, client on CPU 0" if opts.pin else "none"))
    print("- date: %s; wall time %.0f s"
          % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
             time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
