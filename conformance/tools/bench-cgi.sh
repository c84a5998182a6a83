#!/bin/bash
# ab -n 5000 -c 20 on a trivial CGI: Apache (Debian) vs ours, per MPM.
set -u
# REF: the reference runs' apache.sh (starts Debian's apache2 with CGI=1 on 18080-18099).
REF=${REF:-/work/shared/reference/apache-2.4.71/apache.sh}
export LAB_RUN=/tmp/cgibench LAB_WWW=/tmp/cgibench/www CGI=1
mkdir -p $LAB_WWW/cgi-bin
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nhi\\n"\n' > $LAB_WWW/cgi-bin/hi.cgi
chmod 755 $LAB_WWW/cgi-bin/hi.cgi; chmod -R a+rX $LAB_WWW
for mpm in prefork worker event; do
  port=18093
  pid=$($REF start $mpm $port) || { echo "apache start failed"; continue; }
  ab -q -n 200 -c 20 http://127.0.0.1:$port/cgi-bin/hi.cgi >/dev/null 2>&1
  a=$(ab -q -n 5000 -c 20 http://127.0.0.1:$port/cgi-bin/hi.cgi 2>&1 | grep -E "Requests per second|Failed requests|Non-2xx" | tr -s ' ' | tr '\n' ' ')
  conf=$LAB_RUN/apache-$mpm-$port/httpd.conf
  cp $conf /tmp/cgibench/$mpm.conf
  $REF stop $pid >/dev/null 2>&1
  sleep 1
  ${TARGET:-target/release}/mpm-$mpm -f /tmp/cgibench/$mpm.conf -k start 2>/tmp/cgibench/ours-$mpm.err
  sleep 1.5
  ab -q -n 200 -c 20 http://127.0.0.1:$port/cgi-bin/hi.cgi >/dev/null 2>&1
  o=$(ab -q -n 5000 -c 20 http://127.0.0.1:$port/cgi-bin/hi.cgi 2>&1 | grep -E "Requests per second|Failed requests|Non-2xx" | tr -s ' ' | tr '\n' ' ')
  opid=$(cat $LAB_RUN/apache-$mpm-$port/httpd.pid 2>/dev/null)
  [ -n "$opid" ] && kill -TERM $opid; sleep 1.5
  echo "$mpm | apache: $a | ours: $o"
done
