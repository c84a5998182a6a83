#!/bin/sh
# Lab 09: a CGI script that says who it runs as, and tries to write where the site lives.
printf 'Content-Type: text/plain\r\n\r\n'
echo "script pid $$, parent pid $PPID"
id
grep -E '^(Uid|Gid):' /proc/$$/status
if touch /tmp/lab09/htdocs/written-by-cgi 2>/dev/null; then
    echo "wrote /tmp/lab09/htdocs/written-by-cgi"
else
    echo "cannot write into /tmp/lab09/htdocs"
fi
