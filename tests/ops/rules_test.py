#!/usr/bin/python3
"""The alert rules (helm/pushgw/files/pushgw-rules.yaml): `promtool check rules`, `promtool test
rules` on tests/ops/pushgw-rules.test.yaml, a firing and a silent case per alert in those
tests, and a runbook per alert in docs/operations.md that the alert's annotation points to.
Run: tests/ops/rules_test.py (PUSHGW_SOURCE_DIR defaults to this checkout)."""

import re
import subprocess

import opslib

checks = opslib.Checks("rules")
root = opslib.source_dir()
rules_file = opslib.chart_dir() / "files" / "pushgw-rules.yaml"
tests_file = opslib.OPS_DIR / "pushgw-rules.test.yaml"
promtool = opslib.tool("promtool", "prometheus")


def run(*argv):
    result = subprocess.run(argv, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


code, output = run(promtool, "check", "rules", str(rules_file))
checks.check(code == 0, f"promtool check rules:\n{output}")
code, output = run(promtool, "test", "rules", str(tests_file))
checks.check(code == 0, f"promtool test rules:\n{output}")

rules = opslib.load_yaml(rules_file)
alerts = [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
tests = opslib.load_yaml(tests_file)
checks.check(any(str(rules_file.resolve()) == str((tests_file.parent / f).resolve()) for f in tests["rule_files"]),
             f"{tests_file.name} does not load {rules_file}")

# Which alerts each test case expects to fire, and which it expects silent.
fires, silent = set(), set()
for case in tests["tests"]:
    for expectation in case.get("alert_rule_test", []):
        (fires if expectation.get("exp_alerts") else silent).add(expectation["alertname"])

doc = (root / "docs" / "operations.md").read_text()
# Headings outside code blocks (a "# comment" in one is not a heading).
prose = re.sub(r"^\s*```.*?^\s*```", "", doc, flags=re.M | re.S)
runbooks = dict(re.findall(r"^### (Pushgw\w+)\n(.*?)(?=^#{1,3} |\Z)", prose, re.M | re.S))

for alert in alerts:
    name = alert["alert"]
    checks.check(name in fires, f"{name}: no promtool test case expects it to fire")
    checks.check(name in silent, f"{name}: no promtool test case expects it silent on healthy series")
    checks.check(alert.get("labels", {}).get("severity") in ("warning", "critical"),
                 f"{name}: severity label must be warning or critical")
    annotations = alert.get("annotations", {})
    checks.check(annotations.get("summary") and annotations.get("description"), f"{name}: summary or description missing")
    checks.check(annotations.get("runbook") == f"docs/operations.md#{name.lower()}",
                 f"{name}: annotation runbook must be docs/operations.md#{name.lower()}")
    body = runbooks.get(name)
    if checks.check(body is not None, f"{name}: docs/operations.md has no '### {name}' runbook"):
        for part in ("**Means:**", "**Check:**", "**Do:**"):
            checks.check(part in body, f"{name}: its runbook has no {part}")
    checks.check(f"[{name}](#{name.lower()})" in doc, f"{name}: missing from the alert table in docs/operations.md")

for name in sorted(set(runbooks) - {a["alert"] for a in alerts}):
    checks.fail(f"docs/operations.md has a runbook for {name}, which is not an alert")
for name in sorted((fires | silent) - {a["alert"] for a in alerts}):
    checks.fail(f"{tests_file.name} tests {name}, which is not an alert")

print(f"{len(alerts)} alerts")
checks.finish()
