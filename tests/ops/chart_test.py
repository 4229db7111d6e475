#!/usr/bin/python3
"""The Helm chart without helm: values.yaml against values.schema.json (and the schema refuses
what it should); the config block passes `pushgw check-config` with the environment and files
the Deployment gives it; the probes, the container port and the ServiceMonitor use paths the
daemon serves and the port it listens on; the grace period covers preStop plus the drain; every
.Values path and file a template reads exists; the dashboard is well formed.
Run: PUSHGW_BUILD_DIR=build tests/ops/chart_test.py"""

import copy
import json
import re

import jsonschema

import opslib

checks = opslib.Checks("chart")
chart = opslib.chart_dir()
build = opslib.build_dir()
values = opslib.load_yaml(chart / "values.yaml")
schema = json.loads((chart / "values.schema.json").read_text())
templates = {p.name: p.read_text() for p in (chart / "templates").iterdir()}

# ---- values.schema.json ----
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
for error in validator.iter_errors(values):
    checks.fail(f"values.yaml: {'.'.join(map(str, error.absolute_path))}: {error.message}")


def refused(change, what):
    broken = copy.deepcopy(values)
    change(broken)
    checks.check(not validator.is_valid(broken), f"values.schema.json accepts {what}")


refused(lambda v: v["config"].update(listen="127.0.0.1:8088"), "config.listen on loopback (probes would fail)")
refused(lambda v: v.update(replicaCont=2), "a misspelt top-level key")
refused(lambda v: v["secrets"]["apns"].append({"secretName": "x"}), "a secret mount without mountPath")
refused(lambda v: v["autoscaling"].update(enabled="yes"), "autoscaling.enabled as a string")

# ---- the config block, as the pod gets it ----
config = values["config"]
env = {}
for name, ref in (("PUSHGW_API_KEY", "apiKey"), ("PUSHGW_WEBHOOK_SECRET", "webhookSecret"),
                  ("PUSHGW_WEB_SECRET", "webSecret"), ("PUSHGW_REDIS_URL", "redisUrl")):
    if values["secrets"][ref]["secretName"]:
        env[name] = "redis://redis:6379/0" if ref == "redisUrl" else f"test-{ref}"
    checks.check(name in templates["deployment.yaml"] and f".Values.secrets.{ref}" in templates["deployment.yaml"],
                 f"deployment.yaml does not set {name} from secrets.{ref}")
env.update({e["name"]: e["value"] for e in values.get("env", []) if "value" in e})
mounts = [m["mountPath"].rstrip("/") + "/" for m in values["secrets"]["apns"] + values["secrets"]["fcm"]]
for where, file in opslib.file_references(config):
    checks.check(any(file.startswith(m) for m in mounts),
                 f"config.{where}: {file} is not in a mounted Secret ({', '.join(mounts)})")
code, output = opslib.check_config(build, config, env)
checks.check(code == 0, f"pushgw check-config on values.yaml's config:\n{output}")

# The daemon's own reading of config.listen, against the chart's (pushgw.port: the digits at the end).
daemon_listen = re.search(r"\(listen ([^,]+), ", output)
chart_port = re.search(r"[0-9]+$", str(config["listen"]))
if checks.check(daemon_listen and chart_port, f"no listen port in check-config's output or config.listen: {output}"):
    checks.check(daemon_listen.group(1).rsplit(":", 1)[1] == chart_port.group(0),
                 f"the daemon listens on {daemon_listen.group(1)}, the chart's port is {chart_port.group(0)}")
checks.check(re.search(r'define "pushgw\.port".*regexFind "\[0-9\]\+\$" \(toString \.Values\.config\.listen\)',
                       templates["_helpers.tpl"], re.S),
             "_helpers.tpl: pushgw.port is not the digits ending config.listen")

# ---- probes, port, ServiceMonitor against the daemon's routes ----
front_door = (opslib.source_dir() / "src/app/front_door.cpp").read_text()
routes = set(re.findall(r'\{"GET",\s*"(/[a-z]+)"', front_door))
checks.check({"/healthz", "/readyz", "/metrics"} <= routes, f"front_door.cpp serves {sorted(routes)}")
deployment = templates["deployment.yaml"]
probes = dict(re.findall(r"(livenessProbe|readinessProbe):\s*\n\s*httpGet: \{path: (/\w+), port: http\}", deployment))
checks.check(probes.get("livenessProbe") == "/healthz", f"livenessProbe: {probes.get('livenessProbe')}, not /healthz")
checks.check(probes.get("readinessProbe") == "/readyz", f"readinessProbe: {probes.get('readinessProbe')}, not /readyz")
checks.check(all(p in routes for p in probes.values()), f"a probe path the daemon does not serve: {probes}")
checks.check(re.search(r"- name: http\s*\n\s*containerPort: \{\{ include \"pushgw\.port\" \. \}\}", deployment),
             "deployment.yaml: the http port is not pushgw.port")
monitor = templates["servicemonitor.yaml"]
checks.check(re.search(r"- port: http\s*\n\s*path: /metrics", monitor), "servicemonitor.yaml: not port http, path /metrics")
checks.check("jobLabel: app.kubernetes.io/name" in monitor, "servicemonitor.yaml: the job is not named by the chart name")
checks.check("targetPort: http" in templates["service.yaml"], "service.yaml: targetPort is not the http port")

# ---- stopping: preStop sleep + shutdown_timeout within the grace period ----
shutdown_ms = opslib.parse_duration_ms(config.get("shutdown_timeout", "10s"))
checks.check(shutdown_ms is not None, f"config.shutdown_timeout {config.get('shutdown_timeout')!r} is not a duration")
grace = values["terminationGracePeriodSeconds"]
drain = values["preStopSleepSeconds"] + (shutdown_ms or 0) / 1000
# Room after the drain for the requeue of unfinished jobs and the exit.
checks.check(grace >= drain + 5, f"terminationGracePeriodSeconds {grace} < preStop {values['preStopSleepSeconds']}s "
                                 f"+ shutdown_timeout {shutdown_ms / 1000}s + 5s")
checks.check('command: ["sleep", "{{ .Values.preStopSleepSeconds }}"]' in deployment, "no preStop sleep")
checks.check("terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}" in deployment,
             "the grace period is not values.terminationGracePeriodSeconds")

# ---- security and resources ----
for setting in ("runAsNonRoot: true", "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false",
                "automountServiceAccountToken: false", "resources: {{- toYaml .Values.resources"):
    checks.check(setting in deployment, f"deployment.yaml lacks {setting}")
checks.check(values["resources"].get("requests", {}).get("cpu"), "resources.requests.cpu is needed by the CPU autoscaler")
checks.check("apiVersion: autoscaling/v2" in templates["hpa.yaml"] and "name: cpu" in templates["hpa.yaml"],
             "hpa.yaml is not autoscaling/v2 on CPU")
checks.check("apiVersion: policy/v1" in templates["pdb.yaml"], "pdb.yaml is not policy/v1")

# ---- every .Values path and chart file the templates read exists ----
def resolves(path):
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


for name, text in templates.items():
    # Read only under `hasKey .Values.x "key"`: optional, absent by default.
    optional = {f"{p}.{k}" for p, k in re.findall(r'hasKey \.Values\.([\w.]+) "(\w+)"', text)}
    for path in set(re.findall(r"\.Values\.([\w.]+)", text)) - optional:
        checks.check(resolves(path), f"templates/{name} reads .Values.{path}, which values.yaml does not have")
    for file in re.findall(r'\.Files\.Get "([^"]+)"', text):
        checks.check((chart / file).is_file(), f"templates/{name} embeds {file}, which the chart does not have")
checks.check('.Files.Get "files/pushgw-rules.yaml"' in templates["prometheusrule.yaml"],
             "the PrometheusRule does not embed files/pushgw-rules.yaml")
checks.check('.Files.Get "files/pushgw-dashboard.json"' in templates["grafana-dashboard.yaml"],
             "the dashboard ConfigMap does not embed files/pushgw-dashboard.json")
checks.check(values["grafanaDashboard"]["labels"].get("grafana_dashboard") == "1",
             'grafanaDashboard.labels lacks grafana_dashboard: "1" (the sidecar\'s label)')

# ---- the dashboard ----
dashboard = json.loads((chart / "files" / "pushgw-dashboard.json").read_text())
panels = []


def collect(items):
    for panel in items or []:
        panels.append(panel)
        collect(panel.get("panels"))


collect(dashboard.get("panels"))
ids = [p["id"] for p in panels]
checks.check(len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(i for i in ids if ids.count(i) > 1)}")
checks.check(dashboard.get("uid") and dashboard.get("title"), "the dashboard has no uid or title")
variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
checks.check("datasource" in variables, "no datasource variable: the dashboard would need one named data source")
for panel in panels:
    if panel.get("type") == "row":
        continue
    checks.check(panel.get("datasource", {}).get("uid") == "${datasource}", f"panel {panel['title']}: datasource")
    checks.check(panel.get("targets"), f"panel {panel['title']}: no query")
    for target in panel.get("targets", []):
        for used in re.findall(r"\$(\w+)", target["expr"]):
            checks.check(used in variables or used.startswith("__"), f"panel {panel['title']}: unknown variable ${used}")
text = json.dumps(dashboard)
for wanted in ("pushgw_notifications_total", "pushgw_send_duration_seconds_bucket", "pushgw_queue_depth",
               "pushgw_processing_depth", "pushgw_retry_depth", "pushgw_dead_letters_total", "pushgw_h2_connections",
               "pushgw_tokens_marked_inactive_total"):
    checks.check(wanted in text, f"the dashboard does not show {wanted}")

checks.finish()
