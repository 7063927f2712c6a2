#!/usr/bin/env python3
"""How late do volatile keys disappear? cachet vs redis-server, side by side.

Usage (paths relative to the repo root):

    cargo build --release
    python3 benches/expiry_lag.py                 # 100 000 keys, 3 rounds
    python3 benches/expiry_lag.py --keys 20000 --rounds 1

Each round loads N keys into each server with absolute deadlines (PXAT) spread
evenly over `--spread-ms`, starting `--lead-ms` after the load, and nobody reads
them: only active expiry can remove them. A second connection polls DBSIZE
every few milliseconds. From the samples it reports, per server:

  drain_ms    time from the last deadline until DBSIZE reached 0;
  overdue_ms  the largest gap seen between a poll and the deadline of the
              oldest key still present, taking keys to leave in deadline
              order (exact for cachet, which expires in deadline order; a
              lower bound for Redis, which samples at random).

For cachet it also prints INFO's own figures (expired_lag_max_ms,
expired_lag_p99_ms). Servers alternate which goes first each round; the table
shows medians. It measures; it asserts nothing.
"""

import argparse
import datetime
import os
import socket
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import DEFAULT_CACHET_BIN, REDIS_SERVER, Server, log  # noqa: E402


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A minimal RESP connection: enough for pipelined SETs and integer replies."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """Reads one reply; bulk strings are skipped past and returned."""
        head = self.line()
        if head[:1] == b"$":
            n = int(head[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if head[:1] == b"-":
            raise RuntimeError(head.decode(errors="replace"))
        return head

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()

    def close(self):
        self.sock.close()


def info_field(conn, section, field):
    text = conn.call("INFO", section).decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return None


def one_round(server, keys, spread_ms, lead_ms, poll_ms, timeout_s):
    conn = Conn(server.port)
    conn.call("FLUSHALL")
    start_ms = int(time.time() * 1000) + lead_ms
    deadlines = [start_ms + (i * spread_ms) // keys for i in range(keys)]
    batch = 5000
    for first in range(0, keys, batch):
        last = min(keys, first + batch)
        payload = b"".join(encode("SET", "volatile:%d" % i, "v", "PXAT", deadlines[i]) for i in range(first, last))
        conn.sock.sendall(payload)
        for _ in range(first, last):
            conn.reply()
    load_done = int(time.time() * 1000)
    if load_done > start_ms:
        log(f"  warning: loading took past the first deadline by {load_done - start_ms} ms; raise --lead-ms")
    last_deadline = deadlines[-1]
    overdue = 0
    drained_at = None
    give_up = time.time() + timeout_s
    while time.time() < give_up:
        present = int(conn.call("DBSIZE")[1:])
        now = int(time.time() * 1000)
        removed = keys - present
        if removed < keys:
            overdue = max(overdue, now - deadlines[removed])
        if present == 0:
            drained_at = now
            break
        time.sleep(poll_ms / 1000.0)
    extra = {}
    if server.name == "cachet":
        extra["lag_max"] = info_field(conn, "stats", "expired_lag_max_ms")
        extra["lag_p99"] = info_field(conn, "stats", "expired_lag_p99_ms")
        conn.call("CONFIG", "RESETSTAT")
    conn.close()
    drain = None if drained_at is None else max(0, drained_at - last_deadline)
    return drain, overdue, extra


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--spread-ms", type=int, default=1000)
    parser.add_argument("--lead-ms", type=int, default=3000)
    parser.add_argument("--poll-ms", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a server to drain")
    opts = parser.parse_args()

    cachet_bin = os.environ.get("CACHET_BIN", DEFAULT_CACHET_BIN)
    if not os.path.exists(cachet_bin):
        log(f"cachet binary not found at {cachet_bin}; build it with: cargo build --release")
        return 1
    logdir = tempfile.mkdtemp(prefix="cachet-expiry-")
    servers = [Server("cachet", cachet_bin, logdir), Server("redis", REDIS_SERVER, logdir)]
    results = {s.name: {"drain": [], "overdue": [], "lag_max": [], "lag_p99": []} for s in servers}
    try:
        for server in servers:
            server.start(avoid_ports=[s.port for s in servers if s.port])
        for round_index in range(opts.rounds):
            order = servers if round_index % 2 == 0 else list(reversed(servers))
            for server in order:
                log(f"round {round_index + 1}: {server.name}")
                drain, overdue, extra = one_round(server, opts.keys, opts.spread_ms, opts.lead_ms, opts.poll_ms, opts.timeout)
                r = results[server.name]
                if drain is None:
                    log(f"  {server.name} did not drain within {opts.timeout} s")
                    r["drain"].append(float("inf"))
                else:
                    r["drain"].append(drain)
                r["overdue"].append(overdue)
                for k in ("lag_max", "lag_p99"):
                    if extra.get(k) is not None:
                        r[k].append(int(extra[k]))
    finally:
        for server in servers:
            server.stop()

    def med(values):
        return "-" if not values else ("%.0f" % statistics.median(values))

    print(f"# expiry lag, {opts.keys} volatile keys with deadlines spread over {opts.spread_ms} ms, "
          f"median of {opts.rounds} round(s), {datetime.date.today()}")
    print(f"# command: python3 benches/{os.path.basename(__file__)} {' '.join(sys.argv[1:])}".rstrip())
    print("| server | drain after last deadline (ms) | max overdue (ms) | INFO lag max (ms) | INFO lag p99 (ms) |")
    print("|---|---:|---:|---:|---:|")
    for server in servers:
        r = results[server.name]
        print(f"| {server.name} | {med(r['drain'])} | {med(r['overdue'])} | {med(r['lag_max'])} | {med(r['lag_p99'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
