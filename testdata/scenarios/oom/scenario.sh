#!/bin/sh
# Out of memory, stopped once the OOM killer has chosen its victim: module
# oomstop panics from a kprobe on __oom_kill_process, after the OOM report
# (dump_tasks) was printed and with the struct oom_control still live on
# memhog's stack; the lab dumps after that.
echo 0 > /proc/sys/vm/panic_on_oom
if ! insmod /modules/oomstop.ko; then
	echo "oom: oomstop did not load (kprobes): no panic at victim selection" >&2
	exit 1
fi
memhog
echo "oom: memhog returned without a panic" >&2
exit 1
