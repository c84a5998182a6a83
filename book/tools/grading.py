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

ALL = {"prefork", "worker", "event"}

# Lab → (the MPMs it runs, the rules it teaches). A rule shared by several MPMs (rule 9: the spawn
# rate of all three) lists only the tests of the lab's MPMs. Lab 08 (loom) is graded by its loom
# model, named in its README.
LABS = {
    "01-prefork-growth": ({"prefork"}, [3, 4, 5, 6, 7, 8, 9]),
    "02-worker-spare-threads": ({"worker"}, [11, 12, 13, 14, 20, 27]),
    "03-event-keepalive": ({"worker", "event"}, [19, 29, 30, 31, 32, 33]),
    "04-memory-budget": (ALL, [21, 22, 23, 24, 25]),
    "05-graceful-restart": (ALL, [41, 42, 43, 47, 48, 70]),
    "06-max-connections-per-child": (ALL, [52, 53, 54]),
    "07-slow-clients": (ALL, [68, 69]),
    "09-privileges": (ALL, [55]),
}


def package_of(path):
    rel = os.path.relpath(path, ROOT)
    return rel.split(os.sep)[0]


def mpms_of(path, name):
    """The MPMs a test belongs to: its crate (mpm-prefork/…), its file in the suite
    (prefork_*.rs, worker_*.rs, event_*.rs, loom_event.rs, threaded_*.rs) or its name's suffix
    (`…_worker`); a test of the shared core or of all MPMs belongs to all three."""
    for m in ALL:
        if name.endswith("_" + m):
            return {m}
    top, base = package_of(path), os.path.basename(path)
    if top.startswith("mpm-"):
        return {top[len("mpm-"):]}
    for m in ALL:
        if base.startswith(m + "_") or base == f"loom_{m}.rs":
            return {m}
    if base.startswith("threaded_"):
        return {"worker", "event"}
    return set(ALL)


def scan():
    """{test name: (package, MPMs)} for every `fn rule_…` in the workspace's Rust sources.
    Only a `fn` that starts a line counts: a test's own source text inside a string literal
    (the fixtures of conformance/src/rules.rs) is not a test."""
    names = {}
    for pattern in ("conformance/tests/**/*.rs", "*/src/**/*.rs", "httpd-core/tests/*.rs"):
        for f in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            if "/target/" in f:
                continue
            for n in re.findall(r"^[ \t]*fn (rule_\d+[a-z0-9_]*)\s*\(", open(f).read(), re.M):
                names.setdefault(n, (package_of(f), mpms_of(f, n)))
    return names


def tests_for(names, r, mpms=ALL):
    return sorted(
        n for n, (_, of) in names.items()
        if (re.match(rf"rule_0?{r}(_|$)", n) or re.match(rf"rule_\d+_{r:02d}_", n)) and of & mpms
    )


# Labs with a config task (conformance/src/kit/labs/tasks.rs, TASKS): lab → the step that asks
# for it. The kit's self-test checks that each such lab names its `grade --config` command.
CONFIG_TASKS = {
    "02-worker-spare-threads": 7,
    "04-memory-budget": 4,
    "06-max-connections-per-child": 6,
}


def grading(names, mpms, rules, lab):
    num = lab[:2]
    lines = ["## Grading", ""]
    # only labs with a machine-checked key (conformance/src/kit/labs.rs) have an answers file
    if os.path.exists(os.path.join(ROOT, "book", "labs", lab, "answers.txt")):
        lines += [
            f"**Your answers.** Fill in `book/labs/{lab}/answers.txt` (numbers, or yes/no where asked)",
            "and check them; the grader says right or wrong for each value:", "", "```sh",
            f"cargo run -p conformance --bin mpm-lab -- grade --lab {num} --answers book/labs/{lab}/answers.txt",
            "```", "",
        ]
    if lab in CONFIG_TASKS:
        lines += [
            f"**Your config.** Step {CONFIG_TASKS[lab]} is checked on your `httpd.conf` itself: the grader",
            "loads it with the server's own parser, fails it on a clamping warning, and prints one line",
            "per goal (exit status 1 until every goal is met):", "", "```sh",
            f"cargo run -p conformance --bin mpm-lab -- grade --lab {num} --config book/labs/{lab}/httpd.conf",
            "```", "",
        ]
    lines += [
        "These tests check what this lab teaches; the integration tests among them start the real",
        "servers. `cargo test -p conformance` runs the whole suite; a name prefix runs the tests of",
        "one rule:", "", "```sh",
    ]
    pkg = {n: p for n, (p, _) in names.items()}
    in_suite = [r for r in rules if any(pkg[t] == "conformance" for t in tests_for(names, r, mpms))]
    lines.append(f"cargo test -p conformance rule_{in_suite[0]:02d}" if in_suite else "cargo test -p conformance")
    lines += ["```", "", "| rule | tests |", "|---|---|"]
    missing = []
    for r in rules:
        ts = tests_for(names, r, mpms)
        if not ts:
            missing.append(r)
            continue
        cells = [
            f"`{t}`" if pkg[t] == "conformance" else f"`{t}` (`cargo test -p {pkg[t]} {t}`)"
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
    for lab, (mpms, rules) in LABS.items():
        p = os.path.join(ROOT, "book", "labs", lab, "README.md")
        s = open(p).read()
        head = s[: s.index("## Grading")]
        open(p, "w").write(head + grading(names, mpms, rules, lab))
        print(lab, "rules without a test:", [r for r in rules if not tests_for(names, r, mpms)])


if __name__ == "__main__":
    main()
