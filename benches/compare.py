#!/usr/bin/env python3
"""Side-by-side throughput comparison: cachet vs redis-server, using redis-benchmark.

Usage (from anywhere; paths are relative to the repo root):

    cargo build --release
    python3 benches/compare.py                       # default run (~2-3 minutes on 2 cores)
    python3 benches/compare.py --tests set,get --pipelines 1 --rounds 5
    python3 benches/compare.py --markdown > /tmp/table.md
    python3 benches/compare.py --check-no-errors     # default redis-benchmark suite vs cachet only

Environment:
    CACHET_BIN   cachet binary (default: target/release/cachet under the repo root).
                 Setting it to a redis-server binary is a handy self-test: ratios ~1.00.

Both servers are started on free ports bound to 127.0.0.1 and are stopped at the
end, also on Ctrl-C or error.  Every (pipeline, test) pair is benchmarked against
both servers in each round, cachet first in odd rounds and redis first in even
rounds, so slow drift and noise hit both sides.  The table reports the median
ops/s over the rounds, the median over rounds of cachet's ops/s divided by
redis's in the same round (the two runs of a round are back to back), each
side's min/max, the server CPU time each spent per request (from
/proc/<pid>/stat), which the noise of a shared machine barely moves, and how
often per request each server's threads went to sleep (voluntary context
switches, /proc/<pid>/task/*/status): a request that finds the server
asleep costs the client a wake-up.

Exit status: 0 when every run completed (whatever the ratios: this measures, it
does not assert); 1 when a redis-benchmark run failed, timed out, reported an
error or produced no rps, or when a server could not be started.
"""

import argparse
import csv
import datetime
import io
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CACHET_BIN = os.path.join(REPO_ROOT, "target", "release", "cachet")
REDIS_SERVER = "redis-server"
REDIS_BENCHMARK = "redis-benchmark"
# Default request counts per pipeline depth (used when --requests is not given).
DEFAULT_REQUESTS = {1: 200_000}
DEFAULT_REQUESTS_PIPELINED = 2_000_000

# Lines of redis-benchmark output that mean something went wrong.
ERROR_RE = re.compile(
    r"(?i:error)|\bERR\b|\bWRONGTYPE\b|\bNOPERM\b|\bNOAUTH\b|\bLOADING\b"
    r"|Could not connect|Connection refused|Server closed the connection"
)


# CPU pinning (set from --pin): the servers run on SERVER_CPUS and
# redis-benchmark on CLIENT_CPUS, the same for both servers, so the client and
# the server under test never compete for a core and runs are less noisy.
PIN = {"server": None, "client": None}


def pinned(cmd, role):
    cpus = PIN[role]
    if cpus is None or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", cpus] + cmd


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- servers


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resp_command(port, *args, timeout=2.0):
    """Send one command, return the first reply line (without CRLF)."""
    payload = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
    return buf.split(b"\r\n", 1)[0].decode(errors="replace")


class Server:
    def __init__(self, name, binary, logdir, extra_args=()):
        self.name = name
        self.binary = binary
        self.extra_args = list(extra_args)
        self.logdir = logdir
        self.proc = None
        self.port = None
        self.logpath = os.path.join(logdir, name + ".log")

    def args(self, port):
        a = [self.binary, "--port", str(port), "--bind", "127.0.0.1"]
        if os.path.basename(self.binary).startswith("redis-server"):
            a += ["--save", "", "--appendonly", "no"]
        return a + self.extra_args

    def start(self, avoid_ports=(), wait_s=10.0):
        for _attempt in range(3):
            port = free_port()
            while port in avoid_ports:
                port = free_port()
            logf = open(self.logpath, "ab")
            # Own session: a terminal Ctrl-C reaches only us; we stop the server ourselves.
            self.proc = subprocess.Popen(
                pinned(self.args(port), "server"), stdin=subprocess.DEVNULL, stdout=logf,
                stderr=subprocess.STDOUT, start_new_session=True)
            logf.close()
            self.port = port
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break  # exited (port grabbed in between?): retry on another port
                try:
                    if resp_command(port, "PING", timeout=0.5) == "+PONG":
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            else:
                self.stop()
                raise BenchError("%s did not answer PING within %.0f s on port %d (log: %s)\n%s"
                                 % (self.name, wait_s, port, self.logpath, self.log_tail()))
        raise BenchError("%s exited at startup (rc=%s), log %s:\n%s"
                         % (self.name, self.proc.returncode, self.logpath, self.log_tail()))

    def alive(self):
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            return resp_command(self.port, "PING", timeout=2.0) == "+PONG"
        except OSError:
            return False

    def flushall(self):
        try:
            reply = resp_command(self.port, "FLUSHALL", timeout=30.0)
        except OSError as e:
            raise BenchError("%s: FLUSHALL failed: %s\n%s" % (self.name, e, self.log_tail()))
        if reply != "+OK":
            raise BenchError("%s: FLUSHALL replied %r" % (self.name, reply))

    def stop(self):
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        try:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass

    def cpu_seconds(self):
        """User plus system CPU time the server process has used (all threads)."""
        if self.proc is None:
            return None
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # Fields 14 and 15 of stat (utime, stime), counted after the command name.
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def sleeps(self):
        """Times the server's threads went to sleep (voluntary context
        switches, summed over its threads), or None if unreadable."""
        if self.proc is None:
            return None
        total = 0
        try:
            task_dir = "/proc/%d/task" % self.proc.pid
            for tid in os.listdir(task_dir):
                with open(os.path.join(task_dir, tid, "status")) as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return total

    def log_tail(self, n=20):
        try:
            with open(self.logpath, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""


# --------------------------------------------------------------------------- benchmark


def clean_lines(text):
    """redis-benchmark redraws progress with \\r; keep the final state of every line."""
    out = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p.strip()]
        out.extend(p.strip() for p in parts)
    return out


def error_lines(text):
    return [l for l in clean_lines(text) if ERROR_RE.search(l)
            and not l.startswith("WARNING: Could not fetch server CONFIG")]


def run_watched(cmd, server, timeout):
    """Run cmd; kill it on timeout or as soon as the server process exits (a
    redis-benchmark whose server vanished just hangs). Returns (rc, stdout, stderr)."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace")
    deadline = time.monotonic() + timeout
    with p:
        try:
            while True:
                try:
                    out, err = p.communicate(timeout=0.5)
                    return p.returncode, out, err
                except subprocess.TimeoutExpired:
                    pass
                if server.proc is None or server.proc.poll() is not None:
                    raise BenchError("%s exited (rc=%s) during: %s" % (
                        server.name, server.proc and server.proc.returncode, " ".join(cmd)))
                if time.monotonic() > deadline:
                    raise BenchError("timed out after %ss: %s" % (timeout, " ".join(cmd)))
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()


# Script tests (issue 7): the name a --tests list uses, the script, and the
# EVALSHA arguments after its SHA1. The compare-and-delete is the lock
# release applications run; its key holds someone else's token, so it reads
# and compares every time and deletes nothing.
SCRIPT_TESTS = {
    "evalsha_incr": ("return redis.call('incr', KEYS[1])", ["1", "counter"]),
    "evalsha_cad": ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                    "return redis.call('del', KEYS[1]) else return 0 end",
                    ["1", "lock", "my-token"]),
}


def script_load(port, body, timeout=2.0):
    """SCRIPT LOAD `body`; returns its SHA1 (the bulk reply's payload)."""
    payload = b"*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$%d\r\n%s\r\n" % (len(body), body.encode())
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        buf = b""
        while buf.count(b"\r\n") < 2:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
    lines = buf.split(b"\r\n")
    if not lines[0].startswith(b"$"):
        raise BenchError("SCRIPT LOAD failed: %r" % lines[0])
    return lines[1].decode()


def benchmark_command(server, test, pipeline, opts, requests):
    cmd = [REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(server.port),
           "-P", str(pipeline), "-c", str(opts.clients), "-n", str(requests),
           "-d", str(opts.data_size), "--csv"]
    if opts.keyspace:
        cmd += ["-r", str(opts.keyspace)]
    if test in SCRIPT_TESTS:
        body, rest = SCRIPT_TESTS[test]
        if test == "evalsha_cad":
            resp_command(server.port, "SET", "lock", "someone-else")
        return cmd + ["evalsha", script_load(server.port, body)] + rest
    return cmd + ["-t", test]


def run_benchmark(server, test, pipeline, opts, requests):
    cmd = benchmark_command(server, test, pipeline, opts, requests)
    desc = " ".join(shlex.quote(c) for c in cmd)
    cpu_before, sleeps_before = server.cpu_seconds(), server.sleeps()
    rc, out, err = run_watched(pinned(cmd, "client"), server, opts.timeout)
    cpu_after, sleeps_after = server.cpu_seconds(), server.sleeps()
    errs = error_lines(out + "\n" + err)
    if rc != 0 or errs:
        raise BenchError("rc=%d: %s\n  %s" % (rc, desc, "\n  ".join(
            errs or clean_lines(err)[-5:] or ["(no output)"])))
    rows = {}
    for row in csv.DictReader(io.StringIO(out)):
        try:
            rps = float(row["rps"])
        except (KeyError, TypeError, ValueError):
            continue
        rows[test.upper() if test in SCRIPT_TESTS else row["test"]] = rps
    if not rows or any(v <= 0 for v in rows.values()):
        raise BenchError("no rps in output: %s\n%s" % (desc, out[-500:]))
    # Server CPU per request over the whole invocation (some tests, such as
    # LRANGE_*, run a fill test first: the figure covers both).
    # Likewise the times the server slept per request: a request that finds
    # it asleep costs the client a wake-up.
    cpu_us = sleeps = None
    if cpu_before is not None and cpu_after is not None:
        cpu_us = (cpu_after - cpu_before) * 1e6 / (requests * len(rows))
    if sleeps_before is not None and sleeps_after is not None:
        sleeps = (sleeps_after - sleeps_before) / (requests * len(rows))
    return rows, cpu_us, sleeps


def redis_version():
    try:
        out = subprocess.run([REDIS_SERVER, "--version"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    m = re.search(r"v=(\S+)", out)
    return m.group(1) if m else out.strip() or "unknown"


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("-dirty" if dirty else "") if rev else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


# --------------------------------------------------------------------------- output


def fmt_ops(v):
    return "{:,.0f}".format(v) if v is not None else "-"


def build_table(results, order):
    header = ["test", "P", "cachet ops/s", "redis ops/s", "ratio (median of rounds)",
              "cachet min..max", "redis min..max", "server CPU us/req cachet", "redis",
              "server sleeps/req cachet", "redis"]
    rows = []
    for key in order:
        pipeline, test = key
        c = results[key]["cachet"]
        r = results[key]["redis"]
        cm = statistics.median(c) if c else None
        rm = statistics.median(r) if r else None
        # The two servers run back to back in each round, so the ratio of a
        # round's pair is free of the slow drift of a shared machine; the
        # table shows the median of those ratios.
        cr, rr = results[key]["cachet by round"], results[key]["redis by round"]
        paired = [cr[n] / rr[n] for n in cr if n in rr and rr[n] > 0]
        ratio = "%.2f" % statistics.median(paired) if paired else "-"
        cc = results[key]["cachet cpu"]
        rc = results[key]["redis cpu"]
        cs = results[key]["cachet sleeps"]
        rs = results[key]["redis sleeps"]
        rows.append([test, str(pipeline), fmt_ops(cm), fmt_ops(rm), ratio,
                     "%s..%s" % (fmt_ops(min(c)), fmt_ops(max(c))) if c else "-",
                     "%s..%s" % (fmt_ops(min(r)), fmt_ops(max(r))) if r else "-",
                     "%.2f" % statistics.median(cc) if cc else "-",
                     "%.2f" % statistics.median(rc) if rc else "-",
                     "%.3f" % statistics.median(cs) if cs else "-",
                     "%.3f" % statistics.median(rs) if rs else "-"])
    return header, rows


def render_text(header, rows):
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    left = {0}
    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def render_markdown(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


# --------------------------------------------------------------------------- modes


def parse_list(s, conv=str):
    return [conv(x.strip()) for x in s.split(",") if x.strip()]


# Tests whose replies are long take this fraction of the usual request count,
# so one run of them lasts about as long as one of the single-key tests.
SLOW_TESTS = {"lrange_100": 5, "lrange_300": 10, "lrange_500": 15, "lrange_600": 20}


def requests_for(opts, pipeline, test=""):
    if opts.requests is not None:
        return opts.requests
    base = DEFAULT_REQUESTS.get(pipeline, DEFAULT_REQUESTS_PIPELINED)
    return max(1000, base // SLOW_TESTS.get(test.lower(), 1))


def compare(opts, cachet, redis):
    tests = parse_list(opts.tests)
    pipelines = parse_list(opts.pipelines, int)
    results, order = {}, []
    failures = 0
    started = time.monotonic()
    aborted = None
    for rnd in range(1, opts.rounds + 1):
        if aborted:
            break
        servers = [cachet, redis] if rnd % 2 == 1 else [redis, cachet]
        for s in (cachet, redis):
            s.flushall()
        for pipeline, test, s in [(p, t, s) for p in pipelines for t in tests for s in servers]:
            if aborted:
                break
            n = requests_for(opts, pipeline, test)
            try:
                rows, cpu_us, sleeps = run_benchmark(s, test, pipeline, opts, n)
            except BenchError as e:
                failures += 1
                log("FAILED (%s, round %d): %s" % (s.name, rnd, e))
                if not s.alive():
                    aborted = "%s is no longer answering PING; aborted in round %d" % (
                        s.name, rnd)
                    log("%s. Server log tail:\n%s" % (aborted, s.log_tail()))
                continue
            for name, rps in rows.items():
                key = (pipeline, name)
                if key not in results:
                    results[key] = {"cachet": [], "redis": [], "cachet cpu": [], "redis cpu": [],
                                    "cachet sleeps": [], "redis sleeps": [],
                                    "cachet by round": {}, "redis by round": {}}
                    order.append(key)
                results[key][s.name].append(rps)
                results[key][s.name + " by round"][rnd] = rps
                if cpu_us is not None:
                    results[key][s.name + " cpu"].append(cpu_us)
                if sleeps is not None:
                    results[key][s.name + " sleeps"].append(sleeps)
                log("round %d/%d  P=%-3d %-16s %-6s %12s ops/s"
                    % (rnd, opts.rounds, pipeline, name, s.name, fmt_ops(rps)))
    elapsed = time.monotonic() - started

    header, rows = build_table(results, order)
    table = render_markdown(header, rows) if opts.markdown else render_text(header, rows)
    cmd = " ".join(shlex.quote(a) for a in ["python3"] + sys.argv)
    env = "CACHET_BIN=%s " % shlex.quote(os.environ["CACHET_BIN"]) if "CACHET_BIN" in os.environ else ""
    info = [
        "command: %s%s" % (env, cmd),
        "cachet: %s (git %s); redis-server %s; redis-benchmark -c %d -d %d%s, "
        "1 client thread, %d rounds, medians over rounds"
        % (cachet.binary, git_rev(), redis_version(), opts.clients, opts.data_size,
           " -r %d" % opts.keyspace if opts.keyspace else "", opts.rounds),
        "pinning: %s" % ("redis-benchmark on CPU %s, servers on CPU %s" % (PIN["client"], PIN["server"])
                         if PIN["client"] is not None else "none"),
        "date: %s; host: %s, %d cores; wall time %.0f s"
        % (datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
           os.uname().sysname + " " + os.uname().machine, os.cpu_count() or 0, elapsed),
    ]
    print(table)
    print()
    if opts.markdown:
        print("\n".join("- " + line for line in info))
    else:
        print("\n".join(info))
    if failures:
        print("\n%d redis-benchmark run(s) FAILED (see messages above)%s"
              % (failures, "; " + aborted if aborted else ""))
        return 1
    return 0


def check_no_errors(opts, cachet):
    cachet.flushall()
    cmd = [REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(cachet.port),
           "-q", "-n", "2000", "-c", "10"]
    log("running: " + " ".join(cmd))
    try:
        rc, out, err = run_watched(cmd, cachet, opts.timeout)
    except BenchError as e:
        print("FAIL: %s" % e)
        return 1
    done = [l for l in clean_lines(out + "\n" + err) if "requests per second" in l]
    errs = error_lines(out + "\n" + err)
    print("\n".join(done))
    if rc != 0 or errs or not done:
        print("FAIL: redis-benchmark rc=%d, %d test(s) completed" % (rc, len(done)))
        for l in errs:
            print("  " + l)
        return 1
    print("OK: %d tests, no error replies" % len(done))
    return 0


def main():
    ap = argparse.ArgumentParser(
        description="Compare cachet and redis-server throughput with redis-benchmark.",
        epilog="CACHET_BIN overrides the cachet binary (default target/release/cachet).")
    ap.add_argument("--tests", default="set,get,incr,mset",
                    help="comma-separated redis-benchmark -t names, or the script tests "
                         + ",".join(SCRIPT_TESTS) + " (default: %(default)s)")
    ap.add_argument("--pipelines", default="1,16",
                    help="comma-separated -P values (default: %(default)s)")
    ap.add_argument("--clients", type=int, default=50, help="-c (default: %(default)s)")
    ap.add_argument("--requests", type=int, default=None,
                    help="-n for every run (default: %d for -P 1, %d for deeper pipelines)"
                    % (DEFAULT_REQUESTS[1], DEFAULT_REQUESTS_PIPELINED))
    ap.add_argument("--rounds", type=int, default=3, help="rounds (default: %(default)s)")
    ap.add_argument("--keyspace", type=int, default=None,
                    help="-r random keyspace size (default: none, a single key)")
    ap.add_argument("--data-size", type=int, default=3, help="-d value size (default: 3)")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds allowed per redis-benchmark run (default: %(default)s)")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=False,
                    help="pin redis-benchmark to CPU 0 and the servers to the other CPUs "
                         "(default: off)")
    ap.add_argument("--cachet-args", default="",
                    help="extra directives for cachet, e.g. '--busy-poll-us 0' (default: none)")
    ap.add_argument("--check-no-errors", action="store_true",
                    help="run the default redis-benchmark suite (-q -n 2000 -c 10) against "
                    "cachet only and fail on any error reply")
    opts = ap.parse_args()
    if opts.pin:
        ncpu = os.cpu_count() or 1
        PIN["client"] = "0"
        PIN["server"] = "1" if ncpu == 2 else "1-%d" % (ncpu - 1)
    if opts.rounds < 1 or opts.clients < 1 or (opts.requests is not None and opts.requests < 1):
        ap.error("--rounds, --clients and --requests must be positive")

    cachet_bin = os.environ.get("CACHET_BIN", DEFAULT_CACHET_BIN)
    if not os.path.isabs(cachet_bin) and os.sep in cachet_bin:
        cachet_bin = os.path.join(REPO_ROOT, cachet_bin)
    if not (os.path.isfile(cachet_bin) and os.access(cachet_bin, os.X_OK)):
        print("cachet binary not found: %s\nbuild it first:  cargo build --release\n"
              "(or point CACHET_BIN at a binary)" % cachet_bin, file=sys.stderr)
        return 1
    for tool in (REDIS_BENCHMARK,) + (() if opts.check_no_errors else (REDIS_SERVER,)):
        if shutil.which(tool) is None:
            print("%s not found in PATH" % tool, file=sys.stderr)
            return 1

    # SIGINT (even if inherited as ignored, e.g. when started with `&`), SIGTERM and
    # SIGHUP all raise KeyboardInterrupt so the finally-block stops the servers.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    logdir = tempfile.mkdtemp(prefix="cachet-compare-")
    cachet = Server("cachet", cachet_bin, logdir, shlex.split(opts.cachet_args))
    redis = Server("redis", shutil.which(REDIS_SERVER) or REDIS_SERVER, logdir)
    rc = 1
    try:
        cachet.start()
        log("cachet %s on port %d" % (cachet_bin, cachet.port))
        if opts.check_no_errors:
            rc = check_no_errors(opts, cachet)
        else:
            redis.start(avoid_ports=(cachet.port,))
            log("redis-server on port %d; logs in %s" % (redis.port, logdir))
            rc = compare(opts, cachet, redis)
    except BenchError as e:
        print("error: %s" % e, file=sys.stderr)
        rc = 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        rc = 130
    finally:
        for s in (cachet, redis):
            s.stop()
    if rc in (0, 130):
        shutil.rmtree(logdir, ignore_errors=True)
    else:
        print("server logs kept in %s" % logdir, file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
