#!/usr/bin/env bash
# The README's promise, checked as a new user would: from a fresh clone to lab 1's own plot.
#
#   book/tools/newcomer-check.sh [REPO]     REPO defaults to this checkout
#
# Clones into a temporary directory (no target/, so everything is built), runs the README's
# "Your first lab" command exactly, checks that lab-out/01/timeline.svg and summary.txt exist
# and that the summary shows the 5 → 68 growth, and prints the time of each step.
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/mpm-lab-newcomer.XXXXXX)
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
git clone -q "$repo" "$work/mpm-lab"
cd "$work/mpm-lab"
t1=$(date +%s)
cargo build --release -p conformance --bin mpm-lab 2>&1 | tail -1
t2=$(date +%s)
# The README's command, verbatim.
cargo run --release -p conformance --bin mpm-lab -- run --server mpm-prefork \
    --config book/labs/01-prefork-growth/httpd.conf \
    --phases 0:5,40:10,120:15,160:10,0:5 --out lab-out/01 --quiet > /dev/null
t3=$(date +%s)
test -s lab-out/01/timeline.svg
grep -q '5 -> 68' lab-out/01/summary.txt || {
    echo "summary does not show 5 -> 68:" >&2
    sed -n '/process-count/,/max processes/p' lab-out/01/summary.txt >&2
    exit 1
}
echo "clone $((t1 - t0)) s, build $((t2 - t1)) s, lab 1 run $((t3 - t2)) s: $((t3 - t0)) s from clone to plot"
