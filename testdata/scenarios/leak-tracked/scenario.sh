#!/bin/sh
# 20000 kmalloc(100) objects from leaky_alloc_one, kept on leaky's list;
# slub_debug=U makes the kernel record each object's allocation site.
set -e
insmod /modules/leaky.ko nr=20000 keep=1
# The kernel's own view of who allocated kmalloc-128 objects: the oracle.
# (sysfs alloc_calls moved to debugfs alloc_traces in 5.14.)
calls=/sys/kernel/debug/slab/kmalloc-128/alloc_traces
[ -e $calls ] || calls=/sys/kernel/slab/kmalloc-128/alloc_calls
cat $calls > /out/alloc_calls
grep '\[leaky\]' /proc/kallsyms > /out/leaky.kallsyms
dmesg | grep 'leaky:' > /out/leaky.log
echo "cache=kmalloc-128 function=leaky_alloc_one module=leaky count=20000" > /out/truth
grep leaky_alloc_one /out/alloc_calls
