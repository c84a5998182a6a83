#!/bin/sh
# Run every target for SECONDS (default 600), one at a time, at nice 19, from the committed
# seeds; print libFuzzer's final stats (executions, coverage) per target.
#   fuzz/run-all.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")"
secs=${1:-600}; [ $# -gt 0 ] && shift
targets=${*:-"request_head chunk_size range config status_auto log_format"}
for t in $targets; do
    mkdir -p "corpus/$t"
    cp -n seeds/$t/* "corpus/$t/" 2>/dev/null || true
    echo "== $t ($secs s)"
    nice -n 19 cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=1024 2>&1 \
        | grep -E "stat::|Done|INFO: seed corpus|crash-|panicked|ERROR" || true
done
