#!/usr/bin/python3
"""pushgw end-to-end benchmark: Redis + pushgw + pushgw-sim on this machine.

Each run starts its own redis-server, pushgw-sim and pushgw on free loopback ports, loads
notifications, waits until the simulator has delivered all of them, and reports:
delivered/s, enqueue → simulator-answer latency (p50/p99, from the simulator's latency_ms:
every notification carries data.bench_enqueued_ms), the daemon's peak RSS (VmHWM) and CPU
seconds, and the lost/duplicate counts (both must be 0).

Scenarios (issue 5):
  prequeued   N notifications LPUSHed in jobs of --job-size tokens before the daemon starts
  stream      --rate notifications/s for --seconds, latency reported: every 5 ms what arrived in
              that tick is LPUSHed, in jobs of up to --job-size tokens (1: one job each); the
              daemon's RSS every 10 s (a soak: --seconds 1800)
  intake      POST /push alone (queue.consume: false), wrk with 1-token notifications
  idle        the daemon's RSS with nothing to do, and with --backlog notifications waiting
              in Redis while the provider is unreachable (memory must stay flat)
  ceiling     h2load against pushgw-sim: what the simulator can take. The same requests as the
              daemon's: a new device token each, the same headers and payload, a provider token
              in `authorization` checked by the same simulator (--auth none: no authorization
              header, a simulator without checks; --tokens one: the same device token each time)
  peer        --peer aioapns|node-apn|apns2 sends N notifications straight to the simulator
  outage      (issue 18) the simulator answers 503 to everything for --seconds while N
              notifications wait, then recovers: RSS through the outage, dead letters, and the
              drain rate after the recovery

Only the Python standard library; Redis is spoken in RESP over a socket.
Usage: bench/pushgw_bench.py prequeued --notifications 200000 --job-size 500 --runs 3
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("PUSHGW_BUILD_DIR", os.path.join(ROOT, "build"))
# The simulator may come from another build (bench/ab runs two daemons against one simulator).
SIM = os.environ.get("PUSHGW_SIM", os.path.join(BUILD, "pushgw-sim"))


_ports_handed_out = set()


def free_port():
    """A free loopback port, never one this run handed out before: the kernel may offer a port
    again once its probe socket is closed, before the server that was given it has bound it."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


def wait_port(port, seconds=20):
    until = time.time() + seconds
    while time.time() < until:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


class Resp:
    """A minimal pipelining Redis client."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(1 << 16)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise RuntimeError(f"bad RESP {line!r}")

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self._reply() for _ in commands]

    def command(self, *args):
        return self.pipeline([args])[0]


def token(i):
    return "ab" + format(i, "062x")


def provider_token(key_file, key_id="ABC123DEFG", team_id="DEF123GHIJ"):
    """An ES256 provider token like the daemon's and the peers', signed with the openssl command
    (the standard library has no elliptic curves)."""
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "ES256", "kid": key_id}, separators=(",", ":")).encode())
    claims = b64(json.dumps({"iss": team_id, "iat": int(time.time())}, separators=(",", ":")).encode())
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file], input=f"{header}.{claims}".encode(),
                         capture_output=True, check=True).stdout
    # DER SEQUENCE { INTEGER r, INTEGER s } -> JWS's r || s, 32 bytes each.
    pos, numbers = (2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)), []
    while pos < len(der):
        length = der[pos + 1]
        numbers.append(int.from_bytes(der[pos + 2:pos + 2 + length], "big"))
        pos += 2 + length
    r, s = numbers
    return f"{header}.{claims}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def job_text(first, count, enqueued_ms):
    # json.dumps of {"platform","title","tokens","data":{"bench_enqueued_ms"}}, written directly:
    # the stream scenario makes ~60k of these a second, and the generator shares the machine.
    tokens = '","'.join("ab" + format(i, "062x") for i in range(first, first + count))
    return ('{"platform":"ios","title":"bench","tokens":["' + tokens + '"],"data":{"bench_enqueued_ms":'
            + str(enqueued_ms) + "}}")


def proc_usage(pid):
    """(peak RSS bytes, CPU seconds) of a running process."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) * 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return rss, cpu


def current_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Stack:
    """redis-server + pushgw-sim + (later) pushgw, in a scratch folder."""

    def __init__(self, workers=None, sim_threads=1, send_threads=1):
        self.dir = tempfile.mkdtemp(prefix="pushgw-bench-")
        self.procs = []
        self.redis_port = free_port()
        self.sim_port = free_port()
        self.http_port = free_port()
        self.workers = workers
        self.send_threads = send_threads
        env = dict(os.environ, PUSHGW_SIM_URL=f"https://127.0.0.1:{self.sim_port}")
        subprocess.run([os.path.join(ROOT, "scripts", "dev-credentials.sh"), self.dir], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        self.spawn(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.dir], "redis.log")
        wait_port(self.redis_port)
        self.redis = Resp(self.redis_port)
        self.spawn([SIM, "--listen", f"127.0.0.1:{self.sim_port}",
                    "--cert", f"{self.dir}/sim-cert.pem", "--key", f"{self.dir}/sim-key.pem",
                    "--apns-key", f"{self.dir}/apns-key.p8", "--apns-key-id", "ABC123DEFG",
                    "--apns-team-id", "DEF123GHIJ", "--fcm-service-account", f"{self.dir}/fcm-service-account.json",
                    "--threads", str(sim_threads)], "sim.log")
        wait_port(self.sim_port)
        self.tls = ssl.create_default_context(cafile=f"{self.dir}/sim-cert.pem")
        self.daemon = None

    def spawn(self, argv, log):
        out = open(os.path.join(self.dir, log), "w")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def config(self, endpoint=None, consume=True):
        endpoint = endpoint or f"https://127.0.0.1:{self.sim_port}"
        workers = "" if self.workers is None else f"workers: {self.workers}, "  # None: the daemon's default
        # More queue settings to compare, e.g. PUSHGW_BENCH_QUEUE="checkpoint_interval: 0s".
        extra = os.environ.get("PUSHGW_BENCH_QUEUE", "")
        workers += f"{extra}, " if extra else ""
        text = f"""listen: 127.0.0.1:{self.http_port}
api_keys: []
redis: {{url: "redis://127.0.0.1:{self.redis_port}/0"}}
logging: {{level: warn, access_log: false}}
queue: {{{workers}send_threads: {self.send_threads}, consume: {"true" if consume else "false"}}}
apps:
  demo:
    apns:
      endpoint: {endpoint}
      ca_file: {self.dir}/sim-cert.pem
      topic: com.example.demo
      auth: {{type: token, key_file: {self.dir}/apns-key.p8, key_id: ABC123DEFG, team_id: DEF123GHIJ}}
"""
        path = os.path.join(self.dir, "pushgw.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_daemon(self, endpoint=None, consume=True):
        self.daemon = self.spawn([os.path.join(BUILD, "pushgw"), "--config", self.config(endpoint, consume)],
                                 "pushgw.log")
        wait_port(self.http_port)
        if self.daemon.poll() is not None:
            with open(os.path.join(self.dir, "pushgw.log")) as log:
                raise RuntimeError(f"pushgw exited at start-up: {log.read()}")
        return self.daemon

    def sim(self, path, body=None):
        req = urllib.request.Request(f"https://127.0.0.1:{self.sim_port}{path}",
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, context=self.tls, timeout=10) as r:
            return json.loads(r.read())

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def lpush_jobs(redis, total, job_size, key="pushgw:{default}:queue"):
    now = int(time.time() * 1000)
    batch, first = [], 0
    while first < total:
        n = min(job_size, total - first)
        batch.append(("LPUSH", key, job_text(first, n, now)))
        first += n
        if len(batch) >= 500:
            redis.pipeline(batch)
            batch = []
    if batch:
        redis.pipeline(batch)


def latency(stats, which):
    """A percentile of the simulator's enqueue → answer latency (None from an older simulator)."""
    return stats.get("latency_ms", {}).get(which)


def wait_delivered(stack, total, limit_s=600):
    """Polls the simulator until `total` are delivered. Every poll is a TLS handshake and a stats
    query on the simulator, which shares the cores with the daemon: poll every 100 ms and take the
    end time from the simulator's last_delivery_unix_ms instead of from the poll."""
    until = time.time() + limit_s
    while time.time() < until:
        stats = stack.sim("/sim/stats")
        if stats["unique"] >= total:
            return stats
        time.sleep(0.1)
    raise RuntimeError(f"only {stats['unique']} of {total} delivered")


def delivered_at(stats):
    """Unix seconds of the last delivery, by the simulator's clock (same machine)."""
    return stats["last_delivery_unix_ms"] / 1000


def run_prequeued(args):
    stack = Stack(workers=args.workers, send_threads=args.send_threads)
    try:
        lpush_jobs(stack.redis, args.notifications, args.job_size)
        start = time.time()
        daemon = stack.start_daemon()
        stats = wait_delivered(stack, args.notifications)
        elapsed = delivered_at(stats) - start
        time.sleep(0.3)
        stats = stack.sim("/sim/stats")
        rss, cpu = proc_usage(daemon.pid)
        return {"delivered_per_s": args.notifications / elapsed, "seconds": elapsed,
                "p50_ms": latency(stats, "p50"), "p99_ms": latency(stats, "p99"),
                "peak_rss_mb": rss / 2**20, "cpu_s": cpu,
                "lost": args.notifications - stats["unique"], "duplicates": stats["duplicates"]}
    finally:
        stack.close()


def run_stream(args):
    stack = Stack(workers=args.workers, send_threads=args.send_threads)
    try:
        daemon = stack.start_daemon()
        time.sleep(0.5)
        tick = 0.005
        per_tick = args.rate * tick
        sent, carry, first = 0, 0.0, 0
        lags = []
        rss_samples = []  # the daemon's RSS every 10 s, to show it flat over a long run (a soak)
        start = time.time()
        next_tick = start
        next_sample = start
        while time.time() - start < args.seconds:
            if time.time() >= next_sample:
                rss_samples.append(round(current_rss(daemon.pid) / 2**20, 1))
                next_sample += 10
            carry += per_tick
            n = int(carry)
            carry -= n
            if n:
                now = int(time.time() * 1000)
                # What arrived in this tick, in jobs of up to --job-size tokens.
                sizes = [min(args.job_size, n - k) for k in range(0, n, args.job_size)]
                starts = [first + k for k in range(0, n, args.job_size)]
                # One LPUSH: the daemon takes from the other end, so the first job goes first.
                stack.redis.command("LPUSH", "pushgw:{default}:queue",
                                    *[job_text(start, size, now) for start, size in zip(starts, sizes)])
                # From the enqueue time the jobs carry to Redis having them: latency the load
                # generator adds (a stall here counts in the daemon's enqueue → receipt).
                lags.append(time.time() * 1000 - now)
                first += n
                sent += n
            next_tick += tick
            delay = next_tick - time.time()
            if delay > 0:
                time.sleep(delay)
        stats = wait_delivered(stack, sent)
        elapsed = delivered_at(stats) - start
        rss, cpu = proc_usage(daemon.pid)
        return {"delivered_per_s": sent / args.seconds, "offered_per_s": args.rate, "seconds": elapsed,
                "p50_ms": latency(stats, "p50"), "p90_ms": latency(stats, "p90"),
                "p99_ms": latency(stats, "p99"), "peak_rss_mb": rss / 2**20, "cpu_s": cpu,
                "lost": sent - stats["unique"], "duplicates": stats["duplicates"],
                "generator_lag_p99_ms": sorted(lags)[int(0.99 * (len(lags) - 1))] if lags else 0,
                "generator_lag_max_ms": max(lags, default=0), "rss_every_10s_mb": rss_samples}
    finally:
        stack.close()


def run_idle(args):
    stack = Stack(workers=args.workers, send_threads=args.send_threads)
    try:
        # The provider unreachable: jobs are taken, fail, and wait in the retry ZSET, the rest in
        # the queue. RSS must not grow with the backlog.
        daemon = stack.start_daemon(endpoint="https://127.0.0.1:1")
        time.sleep(2)
        idle = current_rss(daemon.pid)
        lpush_jobs(stack.redis, args.backlog, args.job_size)
        samples = []
        for _ in range(10):
            time.sleep(1)
            samples.append(current_rss(daemon.pid))
        return {"idle_rss_mb": idle / 2**20, "backlog": args.backlog,
                "rss_with_backlog_mb": [round(s / 2**20, 1) for s in samples]}
    finally:
        stack.close()


def run_outage(args):
    """Issue 18: the provider answers 503 to everything for --seconds while --notifications wait
    (jobs of --job-size), then recovers. Reports RSS sampled every second through the outage, the
    dead letters, and the drain rate from the first delivery after the recovery to the last."""
    stack = Stack(workers=args.workers, send_threads=args.send_threads)
    try:
        lpush_jobs(stack.redis, args.notifications, args.job_size)
        stack.sim("/sim/config", {"force_status": 503})
        daemon = stack.start_daemon()
        rss = []
        for _ in range(int(args.seconds)):
            time.sleep(1)
            rss.append(round(current_rss(daemon.pid) / 2**20, 1))
        failed_sends = stack.sim("/sim/stats")["received"]
        stack.sim("/sim/config", {"force_status": None})
        recovered = time.time()
        first = None
        until = time.time() + 1800
        while time.time() < until:
            stats = stack.sim("/sim/stats")
            if first is None and stats["unique"] > 0:
                first = time.time()
            if stats["unique"] >= args.notifications:
                break
            time.sleep(0.1)
        drained = delivered_at(stats)
        dead = sum(stack.redis.command("LLEN", f"pushgw:{{{lane}}}:dead") for lane in ("high", "default", "bulk"))
        drain_from = first if first is not None else recovered
        return {"outage_s": args.seconds, "rss_during_outage_mb": rss, "sends_during_outage": failed_sends,
                "first_delivery_after_recovery_s": (first or drained) - recovered,
                "drain_s": drained - drain_from,
                "delivered_per_s": stats["unique"] / max(drained - drain_from, 1e-9),
                "dead_lettered": dead, "lost": args.notifications - stats["unique"],
                "duplicates": stats["duplicates"]}
    finally:
        stack.close()


WRK_SCRIPT = os.path.join(ROOT, "bench", "wrk_push.lua")
PEERS = {
    "aioapns": lambda st, n: ["/usr/bin/python3", os.path.join(ROOT, "bench", "peers", "aioapns_send.py"),
                              "--port", str(st.sim_port), "--ca", f"{st.dir}/sim-cert.pem",
                              "--key", f"{st.dir}/apns-key.p8", "--n", str(n)],
    "node-apn": lambda st, n: ["node", os.path.join(ROOT, "bench", "peers", "node", "node_apn_send.js"),
                               str(st.sim_port), f"{st.dir}/sim-cert.pem", f"{st.dir}/apns-key.p8", str(n)],
    "apns2": lambda st, n: ["node", os.path.join(ROOT, "bench", "peers", "node", "apns2_send.js"),
                            str(st.sim_port), f"{st.dir}/apns-key.p8", str(n)],
}


def run_intake(args):
    stack = Stack(workers=args.workers, send_threads=args.send_threads)
    try:
        daemon = stack.start_daemon(consume=False)
        time.sleep(0.5)
        out = subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{int(args.seconds)}s", "--latency",
                              "-s", WRK_SCRIPT, f"http://127.0.0.1:{stack.http_port}/push"],
                             capture_output=True, text=True, check=True).stdout
        rps = float(out.split("Requests/sec:")[1].split()[0])
        p99 = out.split("99%")[1].split()[0]
        p99_ms = float(p99[:-2]) if p99.endswith("ms") else float(p99[:-2]) / 1000 if p99.endswith("us") \
            else float(p99[:-1]) * 1000
        non2xx = int(out.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in out else 0
        queued = stack.redis.command("LLEN", "pushgw:{default}:queue")
        rss, cpu = proc_usage(daemon.pid)
        return {"requests_per_s": rps, "p99_ms": p99_ms, "non_2xx": non2xx, "stored_jobs": queued,
                "peak_rss_mb": rss / 2**20, "cpu_s": cpu}
    finally:
        stack.close()


def run_ceiling(args):
    stack = Stack()
    try:
        headers = ["-H", "apns-topic: com.example.demo", "-H", "apns-push-type: alert", "-H", "apns-priority: 10"]
        # A simulator of its own without the stream ramp (1 stream until the first authorised
        # request, as APNs): h2load opens its streams before it reads the server's SETTINGS.
        port = free_port()
        argv = [SIM, "--listen", f"127.0.0.1:{port}", "--cert",
                f"{stack.dir}/sim-cert.pem", "--key", f"{stack.dir}/sim-key.pem", "--no-stream-ramp"]
        if args.auth == "token":
            # It checks every provider token, as for the daemon and the peers.
            argv += ["--apns-key", f"{stack.dir}/apns-key.p8", "--apns-key-id", "ABC123DEFG",
                     "--apns-team-id", "DEF123GHIJ"]
            headers += ["-H", f"authorization: bearer {provider_token(f'{stack.dir}/apns-key.p8')}"]
        else:
            argv += ["--no-auth"]  # reference row: no authorization header, nothing to check
        stack.spawn(argv, "sim-ceiling.log")
        wait_port(port)
        payload = os.path.join(stack.dir, "payload.json")
        with open(payload, "w") as f:
            f.write(json.dumps({"aps": {"alert": {"title": "bench"}}, "bench_enqueued_ms": 0}))
        # Distinct device tokens, as the daemon and the peers send: each path is new to HPACK and
        # to the simulator's bookkeeping. --tokens one repeats one token (an indexed path).
        uris = os.path.join(stack.dir, "uris.txt")
        with open(uris, "w") as f:
            count = args.notifications if args.tokens == "distinct" else 1
            for i in range(count):
                f.write(f"https://127.0.0.1:{port}/3/device/{token(i)}\n")
        # One connection with the simulator's 1000 streams (as many in flight as the daemon's
        # max_inflight): h2load gives every client the same URI list from its start, so with
        # several clients each token went several times (8 × 100 streams until session 6: the
        # simulator saw each token 8 times, and 1 × 1000 also took more requests/s here).
        out = subprocess.run(["h2load", "-n", str(args.notifications), "-c", "1", "-m", "1000", *headers,
                              "-d", payload, "-i", uris],
                             capture_output=True, text=True, check=True).stdout
        rps = float(out.split("finished in")[1].split(",")[1].split()[0])
        answered_2xx = int(out.split("status codes:")[1].split()[0])
        if answered_2xx != args.notifications:  # a refused provider token would show here
            raise SystemExit(f"h2load: {answered_2xx} of {args.notifications} requests answered 2xx\n{out}")
        return {"requests_per_s": rps, "auth": args.auth}
    finally:
        stack.close()


def run_peer(args):
    import resource
    stack = Stack()
    try:
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=f"{stack.dir}/sim-cert.pem")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.time()
        # A peer that has not finished after --peer-timeout is stopped; its row is what the
        # simulator counted until then (@parse/node-apn delivers nothing here and can run for
        # a quarter of an hour).
        peer = subprocess.Popen(PEERS[args.peer](stack, args.notifications), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
        try:
            returncode = peer.wait(timeout=args.peer_timeout)
            stopped = False
        except subprocess.TimeoutExpired:
            peer.kill()
            returncode = peer.wait()
            stopped = True
        elapsed = time.time() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stats = stack.sim("/sim/stats")
        return {"delivered_per_s": stats["unique"] / elapsed, "seconds": elapsed, "exit": returncode,
                "stopped_after_timeout": stopped,
                "p50_ms": latency(stats, "p50"), "p99_ms": latency(stats, "p99"),
                "peak_rss_mb": after.ru_maxrss / 1024, "cpu_s": (after.ru_utime + after.ru_stime) -
                (before.ru_utime + before.ru_stime),
                "lost": args.notifications - stats["unique"], "duplicates": stats["duplicates"]}
    finally:
        stack.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["prequeued", "stream", "intake", "idle", "ceiling", "peer", "outage"])
    parser.add_argument("--peer", choices=sorted(PEERS), default="aioapns")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--notifications", type=int, default=200000)
    parser.add_argument("--job-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=None, help="the daemon's queue.workers (default: its own)")
    parser.add_argument("--send-threads", type=int, default=1, help="the daemon's queue.send_threads")
    parser.add_argument("--rate", type=float, default=10000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--backlog", type=int, default=1000000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--tokens", choices=["distinct", "one"], default="distinct",
                        help="ceiling: a new device token per request (as the daemon sends) or one token")
    parser.add_argument("--peer-timeout", type=float, default=180,
                        help="peer: seconds before an unfinished peer is stopped and measured as it stands")
    parser.add_argument("--auth", choices=["token", "none"], default="token",
                        help="ceiling: a provider token in every request, checked (as the daemon and the "
                             "peers send), or no authorization header on a simulator without checks")
    args = parser.parse_args()
    run = {"prequeued": run_prequeued, "stream": run_stream, "intake": run_intake, "idle": run_idle,
           "ceiling": run_ceiling, "peer": run_peer, "outage": run_outage}[args.scenario]
    results = [run(args) for _ in range(args.runs)]
    summary = {"scenario": args.scenario, "notifications": args.notifications, "runs": results}
    for key in ("delivered_per_s", "requests_per_s", "p50_ms", "p99_ms", "peak_rss_mb"):
        values = [r[key] for r in results if r.get(key) is not None]
        if values:
            summary["median_" + key] = statistics.median(values)
    print(json.dumps(summary, indent=2))
    if args.scenario != "peer" and any(r.get("lost", 0) or r.get("duplicates", 0) for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
