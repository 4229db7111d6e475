#!/usr/bin/env python3
"""Replays the defect classes of issue 13 against a running pushgw on loopback and prints what held.

Bounded: a few hundred connections at most, a few MB of traffic, about a minute. Loopback only:
it refuses hosts other than 127.0.0.1 / localhost / ::1. Standard library only.

  scripts/probe.py --port 8088 --redis 127.0.0.1:6399 [--api-key KEY] [--prefix pushgw]
                   [--flood 300] [--sim https://127.0.0.1:8443]

With scripts/dev.sh running (daemon on 8088, Redis on 6399, simulator on 8443):
  scripts/probe.py --port 8088 --redis 127.0.0.1:6399 --sim https://127.0.0.1:8443

Exit status 0 when every check held, 1 otherwise. Checks that need what the probe cannot do
from outside (stall Redis, break the provider's TLS) are named with the test that covers them.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from pushgw_bench import Resp  # noqa: E402  (the benchmark's RESP client, loopback only)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
results = []


def check(name, held, detail=""):
    results.append((name, held))
    print(f"[{'held' if held else 'FAIL'}] {name}" + (f": {detail}" if detail else ""), flush=True)


# --- plain sockets, so the probe can send what a library would refuse to -------------------

def exchange(port, raw, read_timeout=5.0, then=None):
    """Sends raw bytes, reads until the server closes or goes quiet; returns (status, bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        s.sendall(raw)
        if then is not None:
            then(s)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data and len(data) > 200000:
                break
    finally:
        s.close()
    status = 0
    if data.startswith(b"HTTP/1."):
        try:
            status = int(data.split(b" ", 2)[1])
        except (IndexError, ValueError):
            pass
    return status, data


def request(port, method, target, body=b"", headers=None, api_key=None):
    headers = dict(headers or {})
    if api_key:
        headers.setdefault("Authorization", f"Bearer {api_key}")
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if body or method == "POST":
        headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Content-Length", str(len(body)))
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def wait_for(condition, limit=20.0):
    until = time.time() + limit
    while time.time() < until:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


# --- the classes ---------------------------------------------------------------------------

def token(i):
    return f"{i:064x}"


def poison_elements(args, redis):
    queue = f"{args.prefix}:{{default}}:queue"
    dead = f"{args.prefix}:{{default}}:dead"
    before = redis.command("LLEN", dead)
    elements = [
        b'{"platform":"ios","tokens":["%s"],"badge":1e400}' % token(1).encode(),
        b'{"platform":"ios","tokens":["%s"],"title":"bad \xff byte"}' % token(2).encode(),
        b'{"platform":"ios","tokens":["%s"]}\x00garbage' % token(3).encode(),
        b'{"platform":"ios","tokens":["%s"],"title":"%s"}' % (token(4).encode(), b"t" * (1 << 20)),
        b'{"platform":"android","tokens":["probe-fcm"],"title":"%s"}' % (b"t" * 900000),
    ]
    redis.command("LPUSH", queue, *elements)
    held = wait_for(lambda: redis.command("LLEN", dead) >= before + len(elements))
    reasons = []
    for raw in redis.command("LRANGE", dead, 0, len(elements) - 1):
        try:
            reasons.append(json.loads(raw).get("reason"))
        except ValueError:
            reasons.append("?")
    processing = [k for k in redis.command("KEYS", f"{args.prefix}:{{default}}:processing:*") or []]
    stuck = sum(redis.command("LLEN", k) for k in processing)
    check("1. undecodable and oversized elements are dead-lettered, none stays in processing",
          held and stuck == 0 and sorted(reasons) == ["invalid", "invalid", "malformed", "malformed", "malformed"],
          f"reasons {sorted(reasons)}, {stuck} element(s) in processing lists")


def bad_bodies(args):
    head = b'{"notifications":[{"platform":"ios","tokens":["' + token(5).encode() + b'"],'
    cases = {
        "raw 0xFF": head + b'"title":"a\xff"}]}',
        "1e400": head + b'"badge":1e400}]}',
        "100k digits": head + b'"badge":' + b"9" * 100000 + b"e99999}]}",
        "NUL then garbage": b'{"notifications":[{"platform":"ios","tokens":["' + token(5).encode() + b'"]}]}\x00x',
    }
    for name, body in cases.items():
        status, data = request(args.port, "POST", "/push", body, api_key=args.api_key)
        check(f"2. {name} in the body is a 400 with a short answer", status == 400 and len(data) < 2000,
              f"status {status}, {len(data)} bytes")
    status, _ = exchange(args.port, b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n")
    check("2. a request line with raw non-UTF-8 bytes gets a 400", status == 400, f"status {status}")


def unauthenticated_body(args):
    if not args.api_key:
        print("[skip] 3. needs --api-key (the daemon must have api_keys)")
        return
    head = (b"POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1048575\r\n\r\n")
    status, _ = exchange(args.port, head, read_timeout=3.0)
    check("3. no API key: 401 before the body is read", status == 401, f"status {status}")


def flood(args):
    held = []
    try:
        for _ in range(args.flood):
            s = socket.create_connection(("127.0.0.1", args.port), timeout=5)
            s.sendall(b"POST /push HTTP/1.1\r\nHost: x\r\n")  # slowloris: never finishes its header
            held.append(s)
    except OSError as e:
        print(f"       (opened {len(held)} connections: {e})")
    try:
        ok = 0
        for _ in range(10):
            status, _ = request(args.port, "GET", "/healthz")
            ok += status == 200
        check(f"4. /healthz answers while {len(held)} slow connections are held", ok == 10, f"{ok}/10 answered 200")
    finally:
        for s in held:
            s.close()


def readiness(args):
    status, data = request(args.port, "GET", "/readyz")
    body = data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")
    print(f"[info] 5. /readyz {status}: {body[:300]}  (connection failures are reported there; "
          "tests/app/pipeline_test.cpp ReadyzReportsProviderConnectionFailuresWithTheReason breaks TLS)")


def unknown_outcome(_args):
    print("[info] 6. a stalled Redis answers 504 \"stored\": \"unknown\" (retry with ids is safe): needs a "
          "Redis stall; tests/app/pipeline_test.cpp AStalledRedisAnswers504OutcomeUnknownAndARetryWithIdIsDeliveredOnce")


def framing(args):
    body = b'{"notifications":[]}'
    cases = {
        "Transfer-Encoding with Content-Length":
            b"POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n"
            b"Transfer-Encoding: gzip\r\n\r\n" + body,
        "Transfer-Encoding: chunked, identity":
            b"POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked, identity\r\n\r\n14\r\n" + body + b"\r\n0\r\n\r\n",
        "obs-folded header":
            b"POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n folded\r\n"
            b"Content-Length: 20\r\n\r\n" + body,
        "bad chunk size":
            b"POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + b"\r\n0\r\n\r\n",
    }
    for name, raw in cases.items():
        status, data = exchange(args.port, raw)
        answers = data.count(b"HTTP/1.1 ")
        check(f"7. {name}: one 400, then closed", status == 400 and answers == 1, f"status {status}, {answers} answer(s)")


def echo(args):
    body = (b'{"notifications":[{"platform":"ios","tokens":["' + token(6).encode() + b'"],"'
            + b"k" * 900000 + b'":1}]}')
    status, data = request(args.port, "POST", "/push", body, api_key=args.api_key)
    check("8. a 900 KB unknown key is quoted short in the answer", status == 400 and len(data) < 2000,
          f"status {status}, {len(data)} bytes")


def size_limits(args):
    body = (b'{"notifications":[{"platform":"android","tokens":["probe-fcm"],"title":"' + b"t" * 900000 + b'"}]}')
    status, _ = request(args.port, "POST", "/push", body, api_key=args.api_key)
    check("9. a 900 KB Android title is refused at intake", status == 400, f"status {status}")


def drops(args):
    if not args.sim:
        print("[skip] 10. needs --sim (the simulator's control endpoint)")
        return
    print("[info] 10. what a dropped connection re-sends is asserted by tests/app/pipeline_test.cpp "
          "DroppedConnectionsMidBurstRetryTheirInFlightRequests (duplicates <= sends without an answer)")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(args.sim.rstrip("/") + "/sim/stats", context=ctx, timeout=5) as r:
        stats = json.load(r)
    print(f"       simulator: received {stats.get('received')}, unique {stats.get('unique')}, "
          f"duplicates {stats.get('duplicates')}, connections dropped {stats.get('connections_dropped')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--redis", default="127.0.0.1:6399", help="host:port of the daemon's Redis (loopback)")
    parser.add_argument("--prefix", default="pushgw")
    parser.add_argument("--api-key", default="")
    parser.add_argument("--flood", type=int, default=300, help="slow connections to hold (at most 2000)")
    parser.add_argument("--sim", default="", help="the simulator's URL, for its statistics")
    args = parser.parse_args()
    redis_host, redis_port = args.redis.rsplit(":", 1)
    if redis_host not in LOOPBACK:
        sys.exit("probe.py: loopback only (Redis host must be 127.0.0.1, localhost or ::1)")
    args.flood = max(0, min(args.flood, 2000))

    redis = Resp(int(redis_port))
    poison_elements(args, redis)
    bad_bodies(args)
    unauthenticated_body(args)
    flood(args)
    readiness(args)
    unknown_outcome(args)
    framing(args)
    echo(args)
    size_limits(args)
    drops(args)
    failed = [name for name, held in results if not held]
    print(f"\n{len(results) - len(failed)} of {len(results)} checks held")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
