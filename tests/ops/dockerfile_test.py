#!/usr/bin/python3
"""docker/Dockerfile and docker/compose.yaml without Docker: each runtime stage installs the
Debian package of every shared library `ldd` lists for its binary in PUSHGW_BUILD_DIR (mapped
with `dpkg -S`) and nothing else but what is named below; the image runs as non-root with its
config at /etc/pushgw/pushgw.yaml; its HEALTHCHECK command answers 0 against a live daemon and
not 0 without one; compose's pushgw config passes check-config and its simulator command starts.
Run: PUSHGW_BUILD_DIR=build tests/ops/dockerfile_test.py"""

import json
import os
import re
import shlex
import subprocess
import tempfile

import opslib

checks = opslib.Checks("dockerfile")
root = opslib.source_dir()
build = opslib.build_dir()

# Packages a stage may install beyond its binary's libraries, and why.
EXTRA = {
    "": {"ca-certificates": "the trust store for APNs and FCM when ca_file is empty"},
    "sim": {"openssl": "scripts/dev-credentials.sh makes compose's throwaway keys with it"},
}
BINARY = {"": "pushgw", "sim": "pushgw-sim"}
# apt depends on these, so every debian:12-slim has them (checked below with apt-cache).
IN_SLIM = {"libc6", "libgcc-s1", "libstdc++6"}
# Sanitizer runtimes, present when PUSHGW_BUILD_DIR is an ASan build; the image builds Release.
SANITIZER_LIBS = re.compile(r"^lib(asan|ubsan|lsan|tsan)\.so")


def instructions(path):
    """[(stage name, instruction, arguments)]; the last FROM without AS is stage ""."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out, stage = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            stage = m.group(2) or ""
        out.append((stage, word, rest.strip()))
    return out


dockerfile = instructions(root / "docker" / "Dockerfile")
stages = {}
for stage, word, rest in dockerfile:
    stages.setdefault(stage, []).append((word, rest))
checks.check(list(stages)[-1] == "", "the last stage (the default target) must be the daemon's runtime, without AS")


def installed(stage):
    packages = set()
    for word, rest in stages.get(stage, []):
        if word == "RUN":
            for m in re.finditer(r"apt-get install ((?:(?!&&|;|\|).)*)", rest):
                packages.update(t for t in shlex.split(m.group(1)) if not t.startswith("-"))
    return packages


def packages_of(libraries):
    """{library path: Debian package} in one dpkg -S (it costs a quarter of a second a call).
    dpkg knows /usr/lib paths where ldd may print /lib ones (merged /usr), so both are asked."""
    candidates = {lib: (lib, "/usr" + lib, os.path.realpath(lib)) for lib in libraries}
    asked = sorted({c for cs in candidates.values() for c in cs})
    result = subprocess.run(["dpkg", "-S", *asked], capture_output=True, text=True)
    owner = {}
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        owner[path.strip()] = package.split(":")[0].split(",")[0].strip()
    return {lib: next((owner[c] for c in cs if c in owner), None) for lib, cs in candidates.items()}


apt_depends = subprocess.run(["apt-cache", "depends", "apt"], capture_output=True, text=True).stdout
for package in IN_SLIM:
    checks.check(re.search(rf"^\s+\|?Depends: {re.escape(package)}$", apt_depends, re.M),
                 f"{package} is no longer a dependency of apt: debian:12-slim may lack it")

for stage, binary in BINARY.items():
    label = f"stage {stage or '(runtime)'}"
    base = next(rest for word, rest in stages.get(stage, [("FROM", "?")]) if word == "FROM")
    checks.check(base.split()[0] in ("debian:12-slim", "debian:bookworm-slim"), f"{label}: based on {base}, not debian:12-slim")
    ldd = subprocess.run(["ldd", str(build / binary)], capture_output=True, text=True)
    if not checks.check(ldd.returncode == 0, f"ldd {build / binary}: {ldd.stderr}"):
        continue
    libraries = {}
    for line in ldd.stdout.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if not m or SANITIZER_LIBS.match(m.group(1)):
            continue
        if checks.check(m.group(2) != "not", f"{binary}: {m.group(1)} not found"):
            libraries[m.group(2)] = m.group(1)
    needed = {}
    for path, package in packages_of(libraries).items():
        if checks.check(package, f"{binary}: no Debian package holds {path}"):
            needed.setdefault(package, []).append(libraries[path])
    listed = installed(stage)
    for package, libraries in sorted(needed.items()):
        checks.check(package in listed or package in IN_SLIM,
                     f"{label}: {binary} needs {', '.join(libraries)} from {package}, which the stage does not install")
    for package in sorted(listed - set(needed) - set(EXTRA[stage])):
        checks.fail(f"{label}: installs {package}, which {binary} does not need")
    print(f"{label}: {binary} needs {', '.join(sorted(needed))}; installs {', '.join(sorted(listed))}")

runtime = dict(stages[""])  # the last of each instruction, as Docker takes them
checks.check(re.match(r"(\d+)", runtime.get("USER", "")) and not runtime["USER"].startswith("0"),
             f"the runtime runs as {runtime.get('USER', 'root')!r}, not a numeric non-root user")
checks.check(any(w == "COPY" and r.endswith(" /etc/pushgw/pushgw.yaml") for w, r in stages[""]),
             "no config copied to /etc/pushgw/pushgw.yaml")
checks.check(json.loads(runtime.get("CMD", "[]")) == ["--config", "/etc/pushgw/pushgw.yaml"],
             f"CMD is {runtime.get('CMD')}, not --config /etc/pushgw/pushgw.yaml")
builder = " ".join(rest for word, rest in stages["build"] if word == "RUN")
checks.check("./scripts/setup.sh" in builder, "the build stage does not run scripts/setup.sh")
checks.check(re.search(r"cmake --build build [^&]*--target pushgw(\s|$)", builder), "the build stage does not build only pushgw")

# The HEALTHCHECK command, run as Docker would run it in the container.
health = re.match(r"(?:--\S+\s+)*CMD\s+(\[.*\])$", runtime.get("HEALTHCHECK", ""))
health_argv = json.loads(health.group(1)) if health else None
checks.check(health_argv, f"no exec-form HEALTHCHECK CMD: {runtime.get('HEALTHCHECK')}")

compose = opslib.load_yaml(root / "docker" / "compose.yaml")
services = compose.get("services", {})
checks.check({"redis", "pushgw", "sim"} <= set(services), f"compose services: {sorted(services)}")
compose_config = opslib.load_yaml(root / "docker" / "pushgw.compose.yaml")
code, output = opslib.check_config(build, compose_config, {})
checks.check(code == 0, f"check-config docker/pushgw.compose.yaml:\n{output}")
checks.check("./pushgw.compose.yaml:/etc/pushgw/pushgw.yaml:ro" in services.get("pushgw", {}).get("volumes", []),
             "compose does not mount pushgw.compose.yaml as the config")

with opslib.Stack() as stack:
    if health_argv:
        env = {"PATH": os.environ["PATH"], "PUSHGW_HEALTH_PORT": str(stack.port)}
        result = subprocess.run(health_argv, env=env, capture_output=True, text=True, timeout=10)
        checks.check(result.returncode == 0, f"HEALTHCHECK against a live daemon exited {result.returncode}: {result.stderr}")
        env["PUSHGW_HEALTH_PORT"] = str(opslib.free_port())
        result = subprocess.run(health_argv, env=env, capture_output=True, text=True, timeout=10)
        checks.check(result.returncode != 0, "HEALTHCHECK succeeds with nothing listening")

    # compose's simulator command, its /creds and port moved to this machine.
    with tempfile.TemporaryDirectory(prefix="pushgw-ops-sim-") as scratch:
        creds = stack.dir / "creds"
        port = opslib.free_port()
        argv = [str(build / "pushgw-sim")] + [
            a.replace("/creds", str(creds)).replace("0.0.0.0:8443", f"127.0.0.1:{port}")
            for a in services["sim"]["command"]]
        sim = opslib.Child(argv, os.path.join(scratch, "sim.log"))
        try:
            opslib.wait_until(lambda: opslib.port_open(port) or not sim.running(), 20, "compose's pushgw-sim command")
            checks.check(sim.running(), f"compose's sim command exited: {sim.log()}")
        finally:
            sim.stop()

checks.finish()
