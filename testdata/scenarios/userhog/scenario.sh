#!/bin/sh
# One user process holding ~60% of RAM in dirty anonymous memory.
userhog 60 &
while [ ! -e /tmp/userhog.ready ]; do sleep 1; done
read -r ready < /tmp/userhog.ready	# "pid=N bytes=B"
pid=${ready#pid=}; pid=${pid%% *}
bytes=${ready##*bytes=}
echo "comm=userhog pid=$pid anon_bytes=$bytes anon_kib=$((bytes / 1024))" > /out/truth
grep -E '^(Name|Pid|VmRSS|RssAnon|RssFile|RssShmem)' /proc/$pid/status > /out/status
cat /out/truth /out/status
