#!/usr/bin/env python3
"""Events, cachet vs redis-server side by side: publish throughput, and how
late keyspace `expired` events arrive.

Usage (paths relative to the repo root):

    cargo build --release
    python3 benches/events.py                       # both parts, ~3 minutes
    python3 benches/events.py publish --rounds 5    # one part
    python3 benches/events.py expiry --volatile 10000,1000000

publish: N subscribers (1, 10, 100) SUBSCRIBE one channel; a publisher sends
pipelined PUBLISH commands of a 16-byte message; the clock runs from the first
PUBLISH until every subscriber has received every message. Reported: publishes
per second, messages delivered per second, the ratio cachet/redis (median over
rounds of the per-round ratio; servers alternate which goes first), and the
server CPU time per delivered message (from /proc), which the noise of a
shared machine barely moves. Subscribers count whole frames by size, so the
client side costs little.

expiry: the server gets `notify-keyspace-events Ex`, V other volatile keys with
deadlines 1 to 2 hours ahead, then 500 probe keys with deadlines spread from 1
to 3 s ahead (SET ... PXAT). A subscriber on `__keyevent@0__:expired` notes when
each probe's event arrives; nobody reads the keys, so only active expiry can
find them. After waiting 10 s past the last deadline it reports the delay from
each deadline to its event (p50, p99, max) and how many never arrived.

With --pin (default on where taskset exists) the servers run on CPU 1 and
this client on CPU 0. It measures; it asserts nothing. Exit status 1 when a
server could not be started or a run failed.
"""

import argparse
import datetime
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
from compare import DEFAULT_CACHET_BIN, REDIS_SERVER, BenchError, Server, log  # noqa: E402
from expiry_lag import Conn, encode  # noqa: E402

CHANNEL = b"bench"
MESSAGE = b"0123456789abcdef"
PUBLISH_COMMAND = encode("PUBLISH", CHANNEL, MESSAGE)
# What one subscriber receives per message, in RESP2.
MESSAGE_FRAME = b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
    len(CHANNEL), CHANNEL, len(MESSAGE), MESSAGE)
SUBSCRIBED_FRAME = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL)
EXPIRED_CHANNEL = b"__keyevent@0__:expired"
PROBES = 500


def recv_exactly(sock, n, timeout=10.0):
    sock.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise BenchError("server closed a subscriber connection")
        data += chunk
    return data


def subscriber(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10.0)
    sock.sendall(encode("SUBSCRIBE", CHANNEL))
    reply = recv_exactly(sock, len(SUBSCRIBED_FRAME))
    if reply != SUBSCRIBED_FRAME:
        raise BenchError("unexpected SUBSCRIBE reply %r" % reply)
    sock.setblocking(False)
    return sock


def publish_round(server, subscribers, messages, timeout_s=120.0):
    """Returns (seconds, server CPU seconds) for `messages` publishes to `subscribers`."""
    subs = [subscriber(server.port) for _ in range(subscribers)]
    publisher = socket.create_connection(("127.0.0.1", server.port), timeout=10.0)
    reply = b":%d\r\n" % subscribers
    selector = selectors.DefaultSelector()
    for sock in subs:
        selector.register(sock, selectors.EVENT_READ)
    received = {sock: 0 for sock in subs}
    expected = messages * len(MESSAGE_FRAME)
    batch = 200
    in_flight_limit = 2000
    sent = 0
    replies_expected = 0
    reply_bytes = 0
    publisher.setblocking(False)
    pending_out = b""
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    deadline = started + timeout_s
    selector.register(publisher, selectors.EVENT_READ)
    done_subs = 0
    while done_subs < len(subs) or reply_bytes < replies_expected * len(reply):
        if time.monotonic() > deadline:
            raise BenchError("%s: publish round timed out" % server.name)
        outstanding = replies_expected - reply_bytes // len(reply)
        if not pending_out and sent < messages and outstanding < in_flight_limit:
            count = min(batch, messages - sent)
            pending_out = PUBLISH_COMMAND * count
            sent += count
            replies_expected += count
        if pending_out:
            try:
                written = publisher.send(pending_out)
                pending_out = pending_out[written:]
            except BlockingIOError:
                pass
        for key, _ in selector.select(timeout=0.01):
            sock = key.fileobj
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise BenchError("%s closed a connection during the run" % server.name)
            if sock is publisher:
                reply_bytes += len(chunk)
                continue
            before = received[sock]
            received[sock] = before + len(chunk)
            if before < expected <= received[sock]:
                done_subs += 1
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    for sock in subs + [publisher]:
        sock.close()
    if any(count != expected for count in received.values()):
        raise BenchError("%s: a subscriber received %r bytes, expected %d"
                         % (server.name, sorted(set(received.values())), expected))
    return elapsed, cpu


def wait_clients_gone(server, timeout_s=10.0):
    """Waits until only our probe connection is connected (closed sockets take a moment)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        conn = Conn(server.port)
        text = conn.call("INFO", "clients").decode()
        conn.close()
        for line in text.splitlines():
            if line.startswith("connected_clients:") and int(line.split(":")[1]) <= 1:
                return
        time.sleep(0.05)


def run_publish(opts, servers):
    results = {}
    for subscribers in opts.subscribers:
        messages = max(1000, opts.deliveries // subscribers)
        for round_index in range(opts.rounds):
            order = servers if round_index % 2 == 0 else list(reversed(servers))
            for server in order:
                wait_clients_gone(server)
                seconds, cpu = publish_round(server, subscribers, messages)
                rate = messages / seconds
                log("round %d/%d  %3d subscribers  %-6s %10.0f publishes/s  %12.0f deliveries/s"
                    % (round_index + 1, opts.rounds, subscribers, server.name, rate, rate * subscribers))
                results.setdefault((subscribers, server.name), []).append(
                    (rate, cpu / (messages * subscribers) * 1e6))
    rows = []
    for subscribers in opts.subscribers:
        cachet = results[(subscribers, "cachet")]
        redis = results[(subscribers, "redis")]
        ratio = statistics.median(c[0] / r[0] for c, r in zip(cachet, redis))
        c_rate = statistics.median(x[0] for x in cachet)
        r_rate = statistics.median(x[0] for x in redis)
        rows.append("| %d | %s | %s | %s | %s | %.2f | %.3f | %.3f |" % (
            subscribers, fmt(c_rate), fmt(r_rate), fmt(c_rate * subscribers), fmt(r_rate * subscribers),
            ratio, statistics.median(x[1] for x in cachet), statistics.median(x[1] for x in redis)))
    print("| subscribers | cachet publishes/s | redis publishes/s | cachet deliveries/s | redis deliveries/s "
          "| ratio (median of rounds) | server CPU us/delivery cachet | redis |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    print()
    print("- publish: %d-byte messages, pipelined, %d deliveries per run (messages x subscribers), %d rounds"
          % (len(MESSAGE), opts.deliveries, opts.rounds))


def fmt(value):
    return "{:,.0f}".format(value)


class ExpiredListener:
    """A subscriber to `__keyevent@0__:expired` that notes when each key's event arrives."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10.0)
        self.sock.sendall(encode("SUBSCRIBE", EXPIRED_CHANNEL))
        self.buf = b""
        self.arrivals = {}
        self._frame()  # the subscribe confirmation

    def _frame(self):
        """Parses one array of bulk strings/integers from the stream; None if incomplete."""
        buf = self.buf
        if not buf.startswith(b"*"):
            if buf:
                raise BenchError("unexpected frame %r" % buf[:40])
            return None
        end = buf.find(b"\r\n")
        if end < 0:
            return None
        count = int(buf[1:end])
        pos = end + 2
        items = []
        for _ in range(count):
            end = buf.find(b"\r\n", pos)
            if end < 0:
                return None
            head = buf[pos:end]
            if head.startswith(b":"):
                items.append(head[1:])
                pos = end + 2
                continue
            n = int(head[1:])
            if len(buf) < end + 2 + n + 2:
                return None
            items.append(buf[end + 2:end + 2 + n])
            pos = end + 2 + n + 2
        self.buf = buf[pos:]
        return items

    def poll(self, until):
        """Reads events until the monotonic time `until`."""
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return
            if not chunk:
                raise BenchError("the expired-event subscriber was disconnected")
            now_ms = time.time() * 1000
            self.buf += chunk
            while True:
                frame = self._frame()
                if frame is None:
                    break
                if frame[0] == b"message" and frame[1] == EXPIRED_CHANNEL:
                    self.arrivals.setdefault(frame[2], now_ms)

    def close(self):
        self.sock.close()


def load_volatile(server, count):
    conn = Conn(server.port)
    conn.call("FLUSHALL")
    now_ms = int(time.time() * 1000)
    batch = 10_000
    for first in range(0, count, batch):
        last = min(count, first + batch)
        payload = b"".join(
            encode("SET", "bg:%d" % i, "v", "PXAT", now_ms + 3_600_000 + (i * 3_600_000) // count)
            for i in range(first, last))
        conn.sock.sendall(payload)
        for _ in range(first, last):
            conn.reply()
    conn.call("CONFIG", "SET", "notify-keyspace-events", "Ex")
    conn.close()


def expiry_round(server, volatile):
    load_volatile(server, volatile)
    listener = ExpiredListener(server.port)
    conn = Conn(server.port)
    now_ms = int(time.time() * 1000)
    deadlines = {b"probe:%d" % i: now_ms + 1000 + (i * 2000) // PROBES for i in range(PROBES)}
    conn.sock.sendall(b"".join(encode("SET", key, "v", "PXAT", at) for key, at in deadlines.items()))
    for _ in deadlines:
        conn.reply()
    conn.close()
    last = max(deadlines.values())
    give_up = time.monotonic() + (last - time.time() * 1000) / 1000 + 10
    while time.monotonic() < give_up and len([k for k in deadlines if k in listener.arrivals]) < PROBES:
        listener.poll(min(give_up, time.monotonic() + 0.5))
    listener.close()
    delays = sorted(listener.arrivals[k] - at for k, at in deadlines.items() if k in listener.arrivals)
    return delays, PROBES - len(delays)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def run_expiry(opts, servers):
    print("| other volatile keys | server | events received | never arrived | p50 delay (ms) | p99 delay (ms) | max delay (ms) |")
    print("|---:|:---|---:|---:|---:|---:|---:|")
    for volatile in opts.volatile:
        for server in servers:
            log("expiry: %s among %d volatile keys" % (server.name, volatile))
            delays, missing = expiry_round(server, volatile)
            cells = ["-" if v is None else "%.0f" % v
                     for v in (percentile(delays, 0.5), percentile(delays, 0.99), delays[-1] if delays else None)]
            print("| %s | %s | %d | %d | %s | %s | %s |" % (
                fmt(volatile), server.name, len(delays), missing, cells[0], cells[1], cells[2]))
            server.flushall()
    print()
    print("- expiry: %d probe keys with deadlines 1 to 3 s ahead, the other volatile keys 1 to 2 hours ahead; "
          "events awaited until 10 s after the last deadline" % PROBES)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["publish", "expiry"],
                        help="publish, expiry, or both (default)")
    parser.add_argument("--subscribers", default="1,10,100")
    parser.add_argument("--deliveries", type=int, default=1_000_000,
                        help="messages x subscribers per publish run (default 1000000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--volatile", default="10000,1000000")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True)
    opts = parser.parse_args()
    unknown = set(opts.parts) - {"publish", "expiry"}
    if unknown:
        parser.error("unknown part(s): %s (choose publish, expiry)" % ", ".join(sorted(unknown)))
    opts.subscribers = [int(x) for x in opts.subscribers.split(",")]
    opts.volatile = [int(x) for x in opts.volatile.split(",")]
    if opts.pin and compare.shutil.which("taskset"):
        compare.PIN["server"] = "1"
        subprocess.run(["taskset", "-cp", "0", str(os.getpid())], stdout=subprocess.DEVNULL, check=False)

    cachet_bin = os.environ.get("CACHET_BIN", DEFAULT_CACHET_BIN)
    if not os.path.exists(cachet_bin):
        log("cachet binary not found at %s; build it with: cargo build --release" % cachet_bin)
        return 1
    logdir = tempfile.mkdtemp(prefix="cachet-events-")
    servers = [Server("cachet", cachet_bin, logdir), Server("redis", REDIS_SERVER, logdir)]
    started = time.monotonic()
    try:
        for server in servers:
            server.start(avoid_ports=[s.port for s in servers if s.port])
        if "publish" in opts.parts:
            run_publish(opts, servers)
        if "expiry" in opts.parts:
            run_expiry(opts, servers)
    except BenchError as error:
        log("error: %s" % error)
        return 1
    finally:
        for server in servers:
            server.stop()
    print("- command: python3 benches/events.py %s" % " ".join(sys.argv[1:]))
    print("- cachet: %s (git %s); %s; pinning: %s" % (
        cachet_bin, compare.git_rev(), compare.redis_version(),
        "servers on CPU 1, client on CPU 0" if compare.PIN["server"] else "none"))
    print("- date: %s UTC; wall time %.0f s" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"), time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
