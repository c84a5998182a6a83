#!/usr/bin/env python3
"""Regenerates the "## Grading" section of the lab READMEs (book/labs/NN-*/README.md).

Each lab names the rules of apache-mpm-rules.md §11 it teaches (LABS below). For each rule the
table lists every test named after it (`rule_NN_…`, or `rule_MM_NN_…` for a test of two rules)
anywhere in the workspace: the conformance suite and the unit tests in the crates. The command
line above the table runs the rule's conformance tests; a test that lives in a crate is shown
with its own `cargo test -p CRATE` command. Run from anywhere:

    python3 book/tools/grading.py
"""
import glob
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Lab → the rules it teaches. Lab 08 (loom) is graded by its loom model, named in its README.
LABS = {
    "01-prefork-growth": [3, 4, 5, 6, 7, 8, 9],
    "02-worker-spare-threads": [11, 12, 13, 14, 20, 27],
    "03-event-keepalive": [19, 29, 30, 31, 32, 33],
    "04-memory-budget": [21, 22, 23, 24, 25],
    "05-graceful-restart": [41, 42, 43, 47, 48, 70],
    "06-max-connections-per-child": [52, 53, 54],
    "07-slow-clients": [68, 69],
}


def package_of(path):
    rel = os.path.relpath(path, ROOT)
    return rel.split(os.sep)[0]


def scan():
    """{test name: package} for every `fn rule_…` in the workspace's Rust sources."""
    names = {}
    for pattern in ("conformance/tests/**/*.rs", "*/src/**/*.rs", "httpd-core/tests/*.rs"):
        for f in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            if "/target/" in f:
                continue
            for n in re.findall(r"fn (rule_\d+[a-z0-9_]*)\s*\(", open(f).read()):
                names.setdefault(n, package_of(f))
    return names


def tests_for(names, r):
    return sorted(
        n for n in names
        if re.match(rf"rule_0?{r}(_|$)", n) or re.match(rf"rule_\d+_{r:02d}_", n)
    )


def grading(names, rules):
    lines = [
        "## Grading", "",
        "These tests check what this lab teaches; the integration tests among them start the real",
        "servers. `cargo test -p conformance` runs the whole suite; a name prefix runs the tests of",
        "one rule:", "", "```sh",
    ]
    in_suite = [r for r in rules if any(names[t] == "conformance" for t in tests_for(names, r))]
    lines.append(f"cargo test -p conformance rule_{in_suite[0]:02d}" if in_suite else "cargo test -p conformance")
    lines += ["```", "", "| rule | tests |", "|---|---|"]
    missing = []
    for r in rules:
        ts = tests_for(names, r)
        if not ts:
            missing.append(r)
            continue
        cells = [
            f"`{t}`" if names[t] == "conformance" else f"`{t}` (`cargo test -p {names[t]} {t}`)"
            for t in ts
        ]
        lines.append(f"| {r} | " + "<br>".join(cells) + " |")
    if missing:
        many = len(missing) > 1
        lines += ["", ("Rules " if many else "Rule ") + ", ".join(map(str, missing))
                  + (" are also taught here but have no test of their own yet;" if many
                     else " is also taught here but has no test of its own yet;"),
                  "see the [rule table](../porting/rules-checklist.md) for where each one stands."]
    return "\n".join(lines) + "\n"


def main():
    names = scan()
    for lab, rules in LABS.items():
        p = os.path.join(ROOT, "book", "labs", lab, "README.md")
        s = open(p).read()
        head = s[: s.index("## Grading")]
        open(p, "w").write(head + grading(names, rules))
        print(lab, "rules without a test:", [r for r in rules if not tests_for(names, r)])


if __name__ == "__main__":
    main()
