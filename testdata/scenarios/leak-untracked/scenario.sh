#!/bin/sh
# 20000 kmalloc(100) objects from leaky_alloc_one that nothing points to
# (keep=0): real orphans, and no slub_debug, so no owner tracking either.
set -e
insmod /modules/leaky.ko nr=20000 keep=0
grep '\[leaky\]' /proc/kallsyms > /out/leaky.kallsyms
dmesg | grep 'leaky:' > /out/leaky.log
echo "cache=kmalloc-128 function=leaky_alloc_one module=leaky count=20000 referenced=no magic=0x4c45414b59303031 word0=leaky_ops" > /out/truth
