#!/usr/bin/python3
"""The configuration reference in docs/operations.md against the loader: every key that
src/config/config.cpp accepts is listed, nothing else is, and each default is the one
include/pushgw/config/config.hpp gives the struct member the key is read into.

The loader lists each section's keys once, as entries {"key", [&](const Value& f) {...}} of a
read_map call; an entry's body reads nested keys itself (an inner read_map), through a
read_<section>(r, f, ...) function, or through for_each_entry (map keys such as app names).
Walking those from read_root gives every key path; the member a leaf is stored into
(`queue.workers`) names its struct through the reading function's parameter (QueueConfig&
queue). Run: PUSHGW_SOURCE_DIR=. tests/ops/config_doc_test.py"""

import re

import opslib

checks = opslib.Checks("config_doc")
root = opslib.source_dir()
cpp = (root / "src/config/config.cpp").read_text()
hpp = (root / "include/pushgw/config/config.hpp").read_text()
doc_path = root / "docs/operations.md"
doc = doc_path.read_text()


def blank_strings_and_comments(code):
    """The code with string/char literals and comments replaced by spaces (same length), so
    braces inside them do not count."""
    out = list(code)
    i = 0
    while i < len(code):
        c = code[i]
        if code.startswith("//", i):
            end = code.find("\n", i)
            end = len(code) if end < 0 else end
        elif code.startswith("/*", i):
            end = code.find("*/", i) + 2
        elif code.startswith('R"(', i):
            end = code.find(')"', i) + 2
        elif c in "\"'":
            end = i + 1
            while code[end] != c:
                end += 2 if code[end] == "\\" else 1
            end += 1
            # Keep the quotes and the text of "key" strings readable: only braces matter.
            for j in range(i, end):
                if code[j] in "{}()":
                    out[j] = " "
            i = end
            continue
        else:
            i += 1
            continue
        for j in range(i, end):
            if out[j] != "\n":
                out[j] = " "
        i = end
    return "".join(out)


code = blank_strings_and_comments(cpp)


def matching(text, open_at):
    """Index just past the bracket that closes the one at open_at."""
    pairs = {"{": "}", "(": ")"}
    opener, closer = text[open_at], pairs[text[open_at]]
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == opener:
            depth += 1
        elif text[i] == closer:
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError(f"unbalanced {opener} at {open_at}")


# read_<name>(TreeReader& r, const Value& v, <Type>& <var>) { ... } at the start of a line.
FUNCTION = re.compile(r"^[\w:<>, ]+?\b(read_\w+)\(TreeReader& r, const Value& \w+(?:, ([^)]*))?\)\s*\{", re.M)
functions = {}
for m in FUNCTION.finditer(code):
    params = {}
    for param in (m.group(2) or "").split(","):
        pm = re.match(r"\s*(?:const\s+)?([\w:<>]+)&\s*(\w+)\s*$", param)
        if pm:
            params[pm.group(2)] = pm.group(1)
    functions[m.group(1)] = {"body": code[m.end() - 1:matching(code, m.end() - 1)], "params": params}
checks.check("read_root" in functions, "read_root(TreeReader& r, const Value& v, Config& config) not found in config.cpp")

ENTRY = re.compile(r'\{"(\w+)",\s*\[&\]\(const Value& \w+\)\s*\{')
CALL = re.compile(r"(?<![\w.>])(read_\w+)\(r,")
EACH = re.compile(r"\bfor_each_entry\(\w+,\s*\[&\]\([^)]*\)\s*\{")
MEMBER = re.compile(r"(?<![\w.>])(\w+)(?:->|\.)(\w+)")


def walk(body, params, parent):
    """[(key path parts, (struct, member) or None)] of the keys read in body."""
    found = []
    pos = 0
    while True:
        candidates = [m for m in (ENTRY.search(body, pos), CALL.search(body, pos), EACH.search(body, pos)) if m]
        if not candidates:
            return found
        m = min(candidates, key=lambda c: c.start())
        if m.re is ENTRY:
            end = matching(body, m.end() - 1)
            inner = body[m.end() - 1:end]
            children = walk(inner, params, m.group(1))
            if children:
                found += [([m.group(1)] + path, member) for path, member in children]
            else:
                found.append(([m.group(1)], stored_member(inner, params)))
            pos = end
        elif m.re is CALL:
            if m.group(1) in functions:
                called = functions[m.group(1)]
                found += walk(called["body"], called["params"], parent)
            pos = m.end()
        else:
            end = matching(body, m.end() - 1)
            name = "<app>" if parent == "apps" else "<name>"
            found += [([name] + path, member) for path, member in walk(body[m.end() - 1:end], params, parent)]
            pos = end


def stored_member(body, params):
    """(struct, member) of the first `<param>.<member>` in an entry's body: where the value goes."""
    for m in MEMBER.finditer(body):
        if m.group(1) in params:
            return params[m.group(1)], m.group(2)
    return None


loader_keys = {".".join(path): member for path, member in walk(functions["read_root"]["body"],
                                                                 functions["read_root"]["params"], "")}
checks.check(len(loader_keys) > 50, f"only {len(loader_keys)} keys found in config.cpp: the extraction broke")


# ---- the structs' defaults ----

STRUCT = re.compile(r"^struct (\w+) \{\n(.*?)^\};", re.M | re.S)
MEMBER_DECL = re.compile(r"^\s+([\w:<>, ]+?)\s+(\w+)\s*(?:=\s*([^;]+)|\{([^}]*)\})?;", re.M)
structs = {}
for m in STRUCT.finditer(hpp):
    members = {}
    # Comments out, strings kept (a default such as "redis://..." holds "//").
    text = re.sub(r'("(?:[^"\\]|\\.)*")|//[^\n]*', lambda c: c.group(1) or "", m.group(2))
    for d in MEMBER_DECL.finditer(text):
        if "(" in d.group(2) or d.group(1) in ("return", "using", "enum class"):
            continue
        members[d.group(2)] = (d.group(1).strip(), (d.group(3) or d.group(4) or "").strip())
    structs[m.group(1)] = members


def arithmetic(text):
    text = re.sub(r"(\d+)(?:LL|ULL|UL|L|U)\b", r"\1", text)
    if not re.fullmatch(r"[\d\s*+]+", text):
        raise ValueError(f"not a constant: {text}")
    return eval(text, {"__builtins__": {}})  # digits, + and * only (checked above)


def struct_default(struct, member):
    """('ms'|'int'|'bool'|'str'|'list', value) of a member's default, or None when it has no scalar one."""
    ctype, init = structs[struct][member]
    if ctype in ("milliseconds", "std::chrono::milliseconds"):
        return "ms", arithmetic(init or "0")
    if ctype in ("std::size_t", "int", "std::uint16_t"):
        return "int", arithmetic(init or "0")
    if ctype == "bool":
        return "bool", init == "true"
    if ctype == "std::string":
        return "str", init.strip('"')
    if ctype.startswith("std::vector"):
        return "list", []
    if ctype == "ListenAddress":
        host, port = structs["ListenAddress"]["host"][1].strip('"'), structs["ListenAddress"]["port"][1]
        return "str", f"{host}:{port}"
    if "::" in init:  # an enum: LogFormat::text, Type::token
        return "str", init.rsplit("::", 1)[1]
    return None


UNIT_BYTES = {"KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "KB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3}


def doc_value(text, kind):
    """The doc's default written as the loader reads it, in the struct's terms; None if unreadable."""
    text = text.strip().strip("`")
    if kind == "ms":
        return opslib.parse_duration_ms(text)
    if kind == "int":
        m = re.fullmatch(r"(\d+)\s*(KiB|MiB|GiB|KB|MB|GB)?", text)
        return int(m.group(1)) * UNIT_BYTES.get(m.group(2), 1) if m else None
    if kind == "bool":
        return {"true": True, "false": False}.get(text)
    if kind == "list":
        return [] if text == "[]" else None
    return "" if text == '""' else text


# ---- the doc's reference tables: | `key.path` | `default` | meaning | ----

section = re.search(r"^## Configuration reference\n(.*?)(?=^## )", doc, re.M | re.S)
checks.check(section is not None, f"{doc_path}: no '## Configuration reference' section")
doc_rows = {}
for line in (section.group(1) if section else "").splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
    m = re.fullmatch(r"`([\w.<>]+)`", cells[0]) if cells else None
    if m:
        checks.check(m.group(1) not in doc_rows, f"{m.group(1)} is listed twice")
        doc_rows[m.group(1)] = cells

for key, member in sorted(loader_keys.items()):
    if not checks.check(key in doc_rows, f"{key}: the loader accepts it but docs/operations.md does not list it"):
        continue
    row = doc_rows[key]
    if not checks.check(len(row) >= 3 and row[2], f"{key}: no meaning given"):
        continue
    if member is None:
        checks.fail(f"{key}: cannot tell which struct member config.cpp stores it in")
        continue
    default = struct_default(*member)
    if default is None:
        continue  # a section, or a value computed from several members
    kind, value = default
    written = doc_value(row[1], kind)
    checks.check(written == value,
                 f"{key}: the doc's default {row[1]} is not the struct's ({member[0]}::{member[1]} = {value!r})")

for key in sorted(set(doc_rows) - set(loader_keys)):
    checks.fail(f"{key}: docs/operations.md lists it but config.cpp does not read it")

print(f"{len(loader_keys)} keys in the loader, {len(doc_rows)} in the reference")
checks.finish()
