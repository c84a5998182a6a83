#!/usr/bin/env bash
# Regenerates book/src/img/{prefork,worker,event}-reference.svg: each of our servers under the
# reference load (real run, about 200 s), next to Apache 2.4.71's recorded run. The three run in
# parallel; the commands are the ones the MPM chapters show.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p conformance --bin mpm-lab -p mpm-prefork -p mpm-worker -p mpm-event
LAB=target/release/mpm-lab
one() {
  local mpm=$1 conf=$2
  "$LAB" run --server "mpm-$mpm" --config "$conf" --phases 0:5,40:10,120:15,160:10,0:5 \
    --after 150 --quiet --out "lab-out/$mpm-reference"
  "$LAB" compare "conformance/reference/run1/$mpm.timeline.csv" "lab-out/$mpm-reference/timeline.csv" \
    --out "lab-out/$mpm-compare" > /dev/null
  mkdir -p book/src/img
  cp "lab-out/$mpm-compare/compare.svg" "book/src/img/$mpm-reference.svg"
  echo "wrote book/src/img/$mpm-reference.svg"
}
one prefork book/labs/01-prefork-growth/httpd.conf &
one worker book/labs/02-worker-spare-threads/httpd.conf &
one event book/labs/02-worker-spare-threads/httpd.conf &
wait
