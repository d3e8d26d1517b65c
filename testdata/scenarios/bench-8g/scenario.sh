#!/bin/sh
# scripts/bench's large dump: 30 million kmalloc(192) objects (a struct
# dentry's size) from bigleak_alloc_one in an 8 GiB guest, no slub_debug.
set -e
insmod /modules/bigleak.ko nr=30000000
dmesg | grep 'bigleak:' > /out/bigleak.log
n=$(sed -n 's/.*holding \([0-9]*\) objects.*/\1/p' /out/bigleak.log)
echo "cache=kmalloc-192 function=bigleak_alloc_one module=bigleak count=$n" > /out/truth
