#!/usr/bin/env bash
# Regenerates the expected/ output of the labs (book/labs/NN-*/expected/).
#
#   book/labs/regenerate.sh          simulations only (mpm-lab simulate): fast and deterministic
#   book/labs/regenerate.sh --run    also the real runs (mpm-lab run): minutes, results vary a little
#
# Like the Rust Book's tools/update-rustc.sh, it rewrites the files in place so that a review shows
# only real changes. Run it from anywhere; it works from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."

run_real=0
case "${1:-}" in
  --run) run_real=1 ;;
  "") ;;
  *) echo "usage: $0 [--run]" >&2; exit 2 ;;
esac

cargo build --release -p conformance --bin mpm-lab -p mpm-prefork -p mpm-worker -p mpm-event
LAB=target/release/mpm-lab
REFERENCE_PHASES=0:5,40:10,120:15,160:10,0:5

# simulate LAB_DIR OUT_NAME MPM PHASES
simulate() {
  local dir=book/labs/$1 out=book/labs/$1/expected/$2
  rm -rf "$out"
  echo "== simulate $3 ($1 → expected/$2)"
  "$LAB" simulate --mpm "$3" --config "$dir/httpd.conf" --phases "$4" --out "$out"
}

# run LAB_DIR OUT_NAME BINARY PHASES [extra mpm-lab run arguments…]
run() {
  local dir=book/labs/$1 out=book/labs/$1/expected/$2 bin=$3 phases=$4
  shift 4
  rm -rf "$out"
  echo "== run $bin ($dir → expected/$(basename "$out"))"
  "$LAB" run --quiet --server "$bin" --config "$dir/httpd.conf" --phases "$phases" --out "$out" "$@"
}

simulate 01-prefork-growth        simulate prefork "$REFERENCE_PHASES"
simulate 02-worker-spare-threads  simulate worker  "$REFERENCE_PHASES"
simulate 02-worker-spare-threads  simulate-event event "$REFERENCE_PHASES"
simulate 04-memory-budget         simulate prefork 0:3,30:10,60:10,0:5

if [ "$run_real" = 1 ]; then
  run 01-prefork-growth       run         mpm-prefork "$REFERENCE_PHASES"
  run 01-prefork-growth       run-cgi     mpm-prefork "$REFERENCE_PHASES" --mode cgi
  run 02-worker-spare-threads run         mpm-worker  "$REFERENCE_PHASES"
  run 03-event-keepalive      run-worker  mpm-worker  0:3,80:20,0:5 --mode keepalive
  run 03-event-keepalive      run-event   mpm-event   0:3,80:20,0:5 --mode keepalive
  run 04-memory-budget        run         mpm-prefork 0:3,30:10,0:3
  run 05-graceful-restart     run-graceful mpm-prefork 0:3,30:20,0:5 --signal 8:graceful
  run 05-graceful-restart     run-restart  mpm-prefork 0:3,30:20,0:5 --signal 8:restart
  run 06-max-connections-per-child run mpm-prefork 0:3,5:20,0:5 --mode keepalive
  run 07-slow-clients         run         mpm-prefork 0:3,30:25,0:5
fi

# Machine-specific noise that reviews should not see: absolute paths of this checkout.
root=$(pwd)
find book/labs -path '*/expected/*' -type f \( -name '*.txt' -o -name '*.csv' -o -name '*log*' \) \
  -exec sed -i "s|$root|[ROOT]|g" {} +
echo "done: book/labs/*/expected/"
