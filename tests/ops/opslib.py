"""Helpers shared by the operations tests in tests/ops: where things are, failure reporting,
child processes that cannot outlive the test, the Redis + simulator + daemon stack, the
Prometheus text format, and the metric names a PromQL expression refers to.

Debian's python3 runs these (python3-yaml, python3-jsonschema from scripts/setup.sh)."""

import ctypes
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

OPS_DIR = pathlib.Path(__file__).resolve().parent


def source_dir():
    return pathlib.Path(os.environ.get("PUSHGW_SOURCE_DIR") or OPS_DIR.parent.parent)


def build_dir():
    """The build tree the suite runs from (CTest sets PUSHGW_BUILD_DIR, as for the C++ tests)."""
    value = os.environ.get("PUSHGW_BUILD_DIR")
    if not value:
        sys.exit("PUSHGW_BUILD_DIR is not set: point it at the build tree holding pushgw and pushgw-sim")
    return pathlib.Path(value)


def chart_dir():
    return source_dir() / "helm" / "pushgw"


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


class Checks:
    """Collects failures so one run reports all of them; exit status 1 if any."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = 0

    def check(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failures.append(message)
        return condition

    def fail(self, message):
        self.check(False, message)

    def finish(self):
        for message in self.failures:
            print(f"FAIL {self.name}: {message}")
        print(f"{self.name}: {self.passed} checks passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def tool(name, debian_package):
    """Full path of a program, or exit naming the Debian package (scripts/setup.sh installs it)."""
    for folder in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        candidate = pathlib.Path(folder or ".") / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    sys.exit(f"{name} not found on PATH (Debian package {debian_package}; scripts/setup.sh installs it)")


def wait_until(predicate, timeout, what):
    """Polls predicate until it returns a true value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # A child killed along with the test (ctest's timeout kills only us) leaves nothing behind.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Child:
    """A process whose output goes to a log file; stop() ends it (TERM, then KILL)."""

    def __init__(self, argv, log_path, env=None):
        self.argv = argv
        self.log_path = pathlib.Path(log_path)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=env, preexec_fn=_die_with_parent)

    def running(self):
        return self.process.poll() is None

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout=10):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def http_get(port, path, timeout=5):
    """(status, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def http_post_json(port, path, body, timeout=5):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def merge(into, extra):
    """Deep-merges the mapping extra into the mapping into."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


class Stack:
    """redis-server, pushgw-sim and pushgw on free loopback ports, with throwaway credentials
    from scripts/dev-credentials.sh; everything stops when the `with` block ends."""

    def __init__(self, build=None, extra_config=None):
        self.build = pathlib.Path(build or build_dir())
        self.extra_config = extra_config or {}
        self.children = []

    def __enter__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pushgw-ops-")
        self.dir = pathlib.Path(self._tmp.name)
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        # The daemon first, so it does not log Redis going away.
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        self._tmp.cleanup()

    def _spawn(self, argv, name):
        child = Child(argv, self.dir / f"{name}.log")
        self.children.append(child)
        return child

    def _wait_port(self, child, port, name):
        try:
            wait_until(lambda: port_open(port) or not child.running(), 20, f"{name} on port {port}")
        except TimeoutError:
            raise RuntimeError(f"{name} did not listen on {port}; its log:\n{child.log()}")
        if not child.running():
            raise RuntimeError(f"{name} exited ({child.process.returncode}); its log:\n{child.log()}")

    def _start(self):
        for binary in ("pushgw", "pushgw-sim"):
            if not (self.build / binary).is_file():
                raise RuntimeError(f"{self.build / binary} is missing: build the project first")
        creds = self.dir / "creds"
        subprocess.run([str(source_dir() / "scripts" / "dev-credentials.sh"), str(creds)], check=True)

        self.redis_port = free_port()
        redis = self._spawn([tool("redis-server", "redis-server"), "--port", str(self.redis_port),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(self.dir)], "redis")
        self._wait_port(redis, self.redis_port, "redis-server")

        self.sim_port = free_port()
        sim_url = f"https://127.0.0.1:{self.sim_port}"
        account = json.loads((creds / "fcm-service-account.json").read_text())
        account["token_uri"] = sim_url + "/token"
        (creds / "fcm-service-account.json").write_text(json.dumps(account))
        sim = self._spawn([str(self.build / "pushgw-sim"), "--listen", f"127.0.0.1:{self.sim_port}",
                           "--cert", str(creds / "sim-cert.pem"), "--key", str(creds / "sim-key.pem"),
                           "--apns-key", str(creds / "apns-key.p8"),
                           "--fcm-service-account", str(creds / "fcm-service-account.json")], "sim")
        self._wait_port(sim, self.sim_port, "pushgw-sim")

        self.port = free_port()
        config = {
            "listen": f"127.0.0.1:{self.port}",
            "api_keys": [],
            "redis": {"url": f"redis://127.0.0.1:{self.redis_port}/0"},
            "shutdown_timeout": "5s",
            "apps": {"demo": {
                "apns": {"endpoint": sim_url, "ca_file": str(creds / "sim-cert.pem"), "topic": "com.example.demo",
                         "auth": {"type": "token", "key_file": str(creds / "apns-key.p8"),
                                  "key_id": "ABC123DEFG", "team_id": "DEF123GHIJ"}},
                "fcm": {"endpoint": sim_url, "ca_file": str(creds / "sim-cert.pem"),
                        "service_account_file": str(creds / "fcm-service-account.json")},
            }},
        }
        merge(config, self.extra_config)
        config_file = self.dir / "pushgw.yaml"
        config_file.write_text(yaml.safe_dump(config))
        self.daemon = self._spawn([str(self.build / "pushgw"), "--config", str(config_file)], "pushgw")
        self._wait_port(self.daemon, self.port, "pushgw")
        try:
            wait_until(lambda: http_get(self.port, "/readyz")[0] == 200, 20, "pushgw /readyz")
        except TimeoutError:
            raise RuntimeError(f"pushgw did not become ready: {http_get(self.port, '/readyz')}\n{self.daemon.log()}")

    def redis_cli(self, *args):
        return subprocess.run([tool("redis-cli", "redis-tools"), "-p", str(self.redis_port), *args],
                              check=True, capture_output=True, text=True).stdout

    def scrape(self):
        status, body = http_get(self.port, "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}: {body}")
        return body


# ---- Prometheus text format ----

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """{family: {"type": str, "samples": [(sample name, {label: value})]}}; a histogram's
    _bucket/_sum/_count samples belong to its family."""
    families = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind
            families.setdefault(name, {"type": kind, "samples": []})
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        name = m.group(1)
        labels = dict(_LABEL.findall(m.group(3) or ""))
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
                family = base
        families.setdefault(family, {"type": types.get(family, "untyped"), "samples": []})
        families[family]["samples"].append((name, labels))
    return families


def exported_names(families):
    """Every series name a query can use: families, and a histogram's _bucket/_sum/_count."""
    names = set()
    for family, info in families.items():
        names.add(family)
        if info["type"] == "histogram":
            names.update({family + "_bucket", family + "_sum", family + "_count"})
        names.update(sample for sample, _ in info["samples"])
    return names


# ---- PromQL: which series an expression selects ----

_FUNCTION_OR_KEYWORD = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    "inf", "nan",
    # aggregation operators, which may be followed by "by (...)" rather than "("
    "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values",
}
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_TOKEN = re.compile(r'''
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<braces>\{[^{}]*\})
  | (?P<range>\[[^\]]*\])
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<number>[0-9][0-9a-zA-Z.]*)
  | (?P<variable>\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?)
  | (?P<paren>[()])
  | (?P<space>\s+)
  | (?P<other>.)
''', re.VERBOSE)


def selectors(expr):
    """[(metric name, [label names matched])] for every vector selector in a PromQL expression.
    Function names (followed by "("), keywords, grouping label lists, strings, durations and
    Grafana variables are not selectors."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr) if m.lastgroup != "space"]
    found = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else (None, "")
        if kind == "ident" and text.lower() in _GROUPING and following == ("paren", "("):
            # by (lane, le): labels, not metrics; skip to the closing parenthesis.
            while i < len(tokens) and tokens[i] != ("paren", ")"):
                i += 1
        elif kind == "ident" and following == ("paren", "("):
            pass  # a function call
        elif kind == "ident" and text.lower() not in _FUNCTION_OR_KEYWORD:
            labels = _LABEL_NAMES.findall(following[1]) if following[0] == "braces" else []
            found.append((text, labels))
        elif kind == "braces":
            previous = tokens[i - 1] if i > 0 else (None, "")
            if previous[0] != "ident":
                # {__name__="..."} or a selector with no name: name it so the caller sees it.
                found.append(("{" + text[1:-1] + "}", _LABEL_NAMES.findall(text)))
        i += 1
    return found


_LABEL_NAMES = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)')


def grouping_labels(expr):
    """Label names in by (...), without (...), on (...), ignoring (...), group_left/right (...)."""
    names = set()
    for m in re.finditer(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)', expr):
        names.update(n.strip() for n in m.group(1).split(",") if n.strip())
    return names


def dashboard_exprs(dashboard):
    """(panel title, expr) of every query in a Grafana dashboard, rows and nested panels included."""
    out = []

    def walk(panels):
        for panel in panels or []:
            for target in panel.get("targets", []):
                if "expr" in target:
                    out.append((panel.get("title", "?"), target["expr"]))
            walk(panel.get("panels"))

    walk(dashboard.get("panels"))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query":
            text = query.get("query", "") if isinstance(query, dict) else str(query or "")
            # label_values(metric, label) names one metric.
            m = re.match(r'\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*,', text)
            out.append((f"variable {variable.get('name')}", m.group(1) + (m.group(2) or "") if m else text))
    return out


def rule_exprs(rules):
    """(alert or record name, expr) of every rule in a Prometheus rules file."""
    return [(rule.get("alert") or rule.get("record"), rule["expr"])
            for group in rules.get("groups", []) for rule in group.get("rules", [])]


# ---- pushgw check-config on a config meant for another machine ----

FILE_KEYS = ("ca_file", "key_file", "cert_file", "service_account_file")


def file_references(config, path=""):
    """[(key path, file)] of every non-empty file key in a config mapping."""
    found = []
    for key, value in (config or {}).items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            found += file_references(value, where)
        elif key in FILE_KEYS and value:
            found.append((where, str(value)))
    return found


def check_config(build, config, env):
    """(exit code, output) of `pushgw check-config` on config with env set. The files it names
    (absolute paths on the pod or container) are made empty under a scratch folder and the
    config is pointed there: check-config needs them readable, not real."""
    with tempfile.TemporaryDirectory(prefix="pushgw-ops-config-") as scratch:
        scratch = pathlib.Path(scratch)

        def relocate(node):
            out = {}
            for key, value in node.items():
                if isinstance(value, dict):
                    value = relocate(value)
                elif key in FILE_KEYS and isinstance(value, str) and value.startswith("/") and "${" not in value:
                    local = scratch / "files" / value.lstrip("/")
                    local.parent.mkdir(parents=True, exist_ok=True)
                    local.touch()
                    value = str(local)
                out[key] = value
            return out

        config_file = scratch / "pushgw.yaml"
        config_file.write_text(yaml.safe_dump(relocate(config)))
        result = subprocess.run([str(pathlib.Path(build) / "pushgw"), "check-config", str(config_file)],
                                capture_output=True, text=True, env={"PATH": os.environ.get("PATH", ""), **env})
        return result.returncode, result.stdout + result.stderr


def parse_duration_ms(text):
    """Milliseconds of a pushgw duration such as "10s" or "1m30s"; None when it is not one."""
    units = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", str(text))
    if not parts or "".join(a + b for a, b in parts) != str(text):
        return None
    return round(sum(float(n) * units[u] for n, u in parts))
