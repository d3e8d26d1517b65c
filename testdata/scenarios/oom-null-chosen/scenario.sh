#!/bin/sh
# A struct oom_control with chosen = NULL and chosen_points = LONG_MIN, live
# on insmod's stack, and a panic from that frame (the state of the seed oops
# in oom_evaluate_task).  The lab dumps after the panic.
# Real addresses in /proc/kallsyms for root.
echo 1 > /proc/sys/kernel/kptr_restrict
swap=$(awk '$3 == "total_swap_pages" { print $1; exit }' /proc/kallsyms)
if [ -z "$swap" ]; then
	echo "oom-null-chosen: total_swap_pages not in /proc/kallsyms" >&2
	exit 1
fi
insmod /modules/oomnull.ko swap_addr=0x$swap
echo "oom-null-chosen: oomnull returned without a panic" >&2
exit 1
