#!/bin/sh
# Out of memory with panic_on_oom: the kernel prints the OOM report
# (dump_tasks) and panics in memhog's page fault before it selects a victim;
# the lab dumps after that.
echo 1 > /proc/sys/vm/panic_on_oom
memhog
echo "oom-panic: memhog returned without a panic" >&2
exit 1
