#!/usr/bin/python3
"""Every series the alert rules and the Grafana dashboard query exists in a live scrape of the
daemon, with the labels they match and group by. The test starts redis-server, pushgw-sim and
pushgw from PUSHGW_BUILD_DIR on free loopback ports (and a webhook receiver in this process),
makes the daemon deliver, mark a dead token, skip an inactive one, expire an old mark, call the
webhook, dead-letter a job and serve live web clients (one dropped when its token expires), so
that the labelled series exist; scrapes /metrics; stops them.
Run: PUSHGW_BUILD_DIR=build tests/ops/metrics_live_test.py"""

import base64
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time

import opslib

WEB_SECRET = "ops-test-web-secret-of-at-least-32-bytes"

# Series Prometheus itself records for each target, and the labels it adds to every series.
PROMETHEUS_SERIES = {"up"}
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "container", "endpoint"}

checks = opslib.Checks("metrics_live")
chart = opslib.chart_dir()
queries = [("rule " + name, expr) for name, expr in
           opslib.rule_exprs(opslib.load_yaml(chart / "files" / "pushgw-rules.yaml"))]
dashboard = json.loads((chart / "files" / "pushgw-dashboard.json").read_text())
queries += [("panel " + title, expr) for title, expr in opslib.dashboard_exprs(dashboard)]
checks.check(len(queries) > 30, f"only {len(queries)} queries found in the rules and the dashboard")



class Webhook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
# A short inactive_ttl makes the mark sweeper run every second (a tenth of it, at least 1 s).
config = {"feedback": {"inactive_ttl": "10s", "webhook": {
    "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook", "secret": "ops-test", "interval": "100ms"}},
          "web": {"enabled": True, "secret": WEB_SECRET}}


def client_token(channels, exp_in):
    """An HS256 client token for GET /events, minted here (base64url, no padding)."""
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signing = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(
        json.dumps({"channels": channels, "exp": int(time.time()) + exp_in}).encode())
    return signing + "." + b64(hmac.new(WEB_SECRET.encode(), signing.encode(), hashlib.sha256).digest())


def open_event_stream(port, token):
    """GET /events as a raw socket (the stream is read by the daemon's writes, not here)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"GET /events?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock

with opslib.Stack(extra_config=config) as stack:
    now_ms = int(time.time() * 1000)
    inactive, expired = "c" * 64, "d" * 64
    # A fresh mark (skipped when sent to) and one an hour old (removed by the sweeper), written
    # compact as pushgw writes them: the sweeper matches "at":<ms> without spaces.
    for token, at in ((inactive, now_ms), (expired, now_ms - 3600 * 1000)):
        mark = json.dumps({"reason": "Unregistered", "at": at}, separators=(",", ":"))
        stack.redis_cli("HSET", "pushgw:inactive:demo:ios", token, mark)
    dead = "0410" + "b" * 60  # the simulator answers 410 Unregistered
    status, body = opslib.http_post_json(stack.port, "/push", {"notifications": [
        {"platform": "ios", "tokens": ["a" * 64, dead, inactive], "title": "ops"},
        {"platform": "android", "tokens": ["ops-test-token"], "title": "ops"}]})
    checks.check(status == 202, f"POST /push answered {status}: {body}")
    stack.redis_cli("LPUSH", "pushgw:{bulk}:queue", "not json")  # dead-lettered as malformed
    # Live web: a client that reads one message, and one whose token expires (dropped).
    live = open_event_stream(stack.port, client_token(["ops"], 600))
    expiring = open_event_stream(stack.port, client_token(["ops"], 2))
    opslib.wait_until(lambda: 'pushgw_web_connections{transport="sse"} 2' in stack.scrape() or None, 30,
                      "two live web connections")
    status, body = opslib.http_post_json(stack.port, "/push", {"notifications": [
        {"platform": "web", "tokens": ["ops"], "title": "ops"}]})
    checks.check(status == 202, f"POST /push of a web notification answered {status}: {body}")

    def ready_scrape():
        text = stack.scrape()
        wanted = ['outcome="delivered"', 'outcome="token_dead"', "pushgw_dead_letters_total{",
                  "pushgw_tokens_marked_inactive_total{", 'platform="android"', "pushgw_tokens_skipped_inactive_total{",
                  "pushgw_inactive_marks_expired_total{", "pushgw_feedback_webhook_requests_total{",
                  "\npushgw_feedback_webhook_events_total ", "\npushgw_feedback_events_waiting ",
                  "pushgw_web_messages_total{", 'pushgw_web_dropped_total{reason="token_expired"}',
                  "\npushgw_web_fanout_seconds_count "]
        return text if all(w in text for w in wanted) else None

    try:
        scrape = opslib.wait_until(ready_scrape, 30, "the sends, the dead token and the dead letter in /metrics")
    except TimeoutError as e:
        print(stack.scrape())
        print(stack.daemon.log())
        raise SystemExit(f"FAIL metrics_live: {e}")
receiver.shutdown()
live.close()
expiring.close()

families = opslib.parse_exposition(scrape)
exported = opslib.exported_names(families)


def family_of(name):
    for suffix in ("_bucket", "_sum", "_count", ""):
        base = name[: len(name) - len(suffix)] if suffix else name
        if name.endswith(suffix) and base in families:
            return base
    return None


def labels_of(family):
    info = families[family]
    names = set().union(*(set(labels) for _, labels in info["samples"])) if info["samples"] else None
    if names is not None and info["type"] == "histogram":
        names.add("le")
    return names


used = set()
for where, expr in queries:
    found = opslib.selectors(expr)
    checks.check(found, f"{where}: no series selected in {expr!r}")
    selected_labels = set(TARGET_LABELS)
    for name, matched in found:
        if name in PROMETHEUS_SERIES:
            selected_labels.update(matched)
            continue
        if not checks.check(name in exported, f"{where}: {name} is not in the daemon's /metrics"):
            continue
        family = family_of(name)
        used.add(family)
        known = labels_of(family)
        if known is None:
            # HELP/TYPE only (e.g. the webhook's series without a webhook): the name is checked.
            continue
        selected_labels.update(known)
        for label in matched:
            checks.check(label in known or label in TARGET_LABELS,
                         f"{where}: {name} has no label {label!r} (it has {sorted(known)})")
    for label in opslib.grouping_labels(expr):
        checks.check(label in selected_labels, f"{where}: groups by {label!r}, which no series it selects has")

unused = sorted(f for f in families if f.startswith("pushgw_") and f not in used)
print(f"{len(queries)} queries over {len(used)} metric families; not shown or alerted on: {', '.join(unused) or 'none'}")
checks.finish()
