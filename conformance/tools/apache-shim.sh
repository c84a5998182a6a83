#!/bin/sh
# Run real Apache httpd 2.4 (Debian's apache2) under the conformance harness, to check that the
# suite's expectations are Apache's own behaviour:
#
#   apt-get install apache2
#   export MPM_LAB_BIN_PREFORK=$PWD/conformance/tools/apache-shim.sh
#   export MPM_LAB_BIN_WORKER=$MPM_LAB_BIN_PREFORK MPM_LAB_BIN_EVENT=$MPM_LAB_BIN_PREFORK
#   cargo test -p conformance -- http_ logs_ status_
#
# The harness runs `BIN -f CONF [args]` with MPM_LAB_MPM=prefork|worker|event in the environment.
# Apache cannot listen on port 0, so this picks a free port, writes it into the config, and logs
# the harness's `listening on 127.0.0.1:PORT` line itself; it adds the LoadModule lines our
# binaries do not need (their modules are built in), then execs Apache in the foreground.
set -eu
[ "${1:-}" = "-f" ] || { echo "usage: $0 -f CONF [args]" >&2; exit 2; }
conf=$2; shift 2
mpm=${MPM_LAB_MPM:-prefork}
mods=${APACHE_MODULES:-/usr/lib/apache2/modules}
dir=$(dirname "$conf")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s/^Listen 127.0.0.1:0\$/Listen 127.0.0.1:$port/" "$conf"
{
    echo "LoadModule mpm_${mpm}_module $mods/mod_mpm_${mpm}.so"
    for m in authz_core mime dir status; do echo "LoadModule ${m}_module $mods/mod_${m}.so"; done
    echo "User www-data"
    echo "Group www-data"
    echo "TypesConfig /etc/mime.types"
    echo "DefaultRuntimeDir \"$dir\""
    cat "$conf"
} > "$conf.apache" && mv "$conf.apache" "$conf"
chmod -R a+rX "$dir"
echo "[$(date '+%a %b %d %H:%M:%S.%6N %Y')] [core:notice] [pid $$:tid $$] listening on 127.0.0.1:$port" >> "$dir/error_log"
exec /usr/sbin/apache2 -f "$conf" -D FOREGROUND "$@"
