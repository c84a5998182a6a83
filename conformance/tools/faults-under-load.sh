#!/usr/bin/env bash
# Faults under keep-alive load (issue #16): `wrk -t1 -c50 -d16s` on /1k.bin against one server
# on the reference config of its MPM, while the parent or its children are signalled:
#
#   kill  SIGKILL of a random child every 2 s (6 kills)
#   usr1  SIGUSR1 (graceful restart) every 1.5 s (10 times)
#   hup   SIGHUP (restart) every 1.5 s (10 times)
#   none  no signal (the baseline)
#
# Prints one line per run with wrk's requests and socket errors ("read" errors are requests
# whose connection was closed or reset under them).
#
#   faults-under-load.sh ours|apache MPM MODE [PORT]
#
# ours: the binaries in $BIN (default target/release of this workspace: build with
# `cargo build --release --bins` first) on conformance/fixtures/MPM-reference.conf;
# apache: Debian's apache2 through ../shared/reference/apache-2.4.71/apache.sh with the same
# overrides. PORT defaults to a free one in 18080-18099 (apache.sh's range). Work files go to
# $OUT (default /tmp/faults-under-load). Stops what it started by PID.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
who=${1:?ours|apache} mpm=${2:?prefork|worker|event} mode=${3:?kill|usr1|hup|none}
BIN=${BIN:-$root/target/release}
OUT=${OUT:-/tmp/faults-under-load}
APACHE_SH=${APACHE_SH:-$root/../shared/reference/apache-2.4.71/apache.sh}
FIX=$root/conformance/fixtures
port=${4:-}
if [ -z "$port" ]; then
  for p in $(seq 18080 18099 | shuf); do
    ss -ltnH "( sport = :$p )" | grep -q . || { port=$p; break; }
  done
fi
[ -n "$port" ] || { echo "no free port in 18080-18099" >&2; exit 1; }
mkdir -p "$OUT"
if [ "$who" = ours ]; then
  d=$OUT/ours-$mpm-$port; rm -rf "$d"; mkdir -p "$d/htdocs"
  head -c 1024 /dev/urandom > "$d/htdocs/1k.bin"; chmod -R a+rX "$d"
  sed -e "s#/srv/mpm-lab#$d#g" -e "s#Listen 127.0.0.1:0#Listen 127.0.0.1:$port#" \
    "$FIX/$mpm-reference.conf" > "$d/httpd.conf"
  setsid "$BIN/mpm-$mpm" -f "$d/httpd.conf" </dev/null >"$d/stdout" 2>&1 &
  pid=$!
else
  # The overrides of the reference config, one directive per line.
  mapfile -t ov < <(sed -n '/---- overrides/,$p' "$FIX/$mpm-reference.conf" | grep -v '^#')
  pid=$(LAB_RUN=$OUT/lab bash "$APACHE_SH" start "$mpm" "$port" "${ov[@]}") || exit 1
  d=$OUT/lab/apache-$mpm-$port
fi
for _ in $(seq 100); do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/1k.bin" && break; sleep 0.1
done
sleep 1
wrk -t1 -c50 -d16s "http://127.0.0.1:$port/1k.bin" > "$d/wrk.out" 2>&1 &
wpid=$!
sleep 1
case $mode in
  kill) for _ in 1 2 3 4 5 6; do
          mapfile -t kids < <(ps -o pid= --ppid "$pid" | tr -d ' ')
          [ ${#kids[@]} -gt 0 ] && kill -KILL "${kids[$((RANDOM % ${#kids[@]}))]}"
          sleep 2
        done ;;
  usr1) for _ in $(seq 10); do kill -USR1 "$pid"; sleep 1.5; done ;;
  hup)  for _ in $(seq 10); do kill -HUP "$pid"; sleep 1.5; done ;;
  none) ;;
esac
wait $wpid
if [ "$who" = ours ]; then
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
else
  LAB_RUN=$OUT/lab bash "$APACHE_SH" stop "$pid"
fi
req=$(awk '/requests in/ {print $1}' "$d/wrk.out")
read_err=$(grep -o 'read [0-9][0-9]*' "$d/wrk.out" | awk '{print $2}')
echo "$who $mpm $mode requests=${req:-?} read_errors=${read_err:-0} $(grep -o 'connect [0-9]*, read [0-9]*, write [0-9]*, timeout [0-9]*' "$d/wrk.out")"
