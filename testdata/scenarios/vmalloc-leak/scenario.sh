#!/bin/sh
# 2000 vmalloc areas of 16 KiB (~31 MiB) held by module vleaky, all
# allocated by vleaky_alloc_one.
set -e
insmod /modules/vleaky.ko nr=2000 size=16384
# The kernel's own view (caller per area): the oracle.  kptr_restrict=1 lets
# root see real addresses (%pK is hashed, or "(____ptrval____)" this early).
echo 1 > /proc/sys/kernel/kptr_restrict
grep 'vleaky_alloc_one' /proc/vmallocinfo > /out/vmallocinfo.vleaky
grep '\[vleaky\]' /proc/kallsyms > /out/vleaky.kallsyms
n=$(wc -l < /out/vmallocinfo.vleaky)
echo "function=vleaky_alloc_one module=vleaky count=2000 size=16384 total_kib=32000 vmallocinfo_lines=$n" > /out/truth
cat /out/truth
