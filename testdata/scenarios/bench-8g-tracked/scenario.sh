#!/bin/sh
# scripts/bench's large dump: 8 million kmalloc(192) objects (a struct
# dentry's size) from bigleak_alloc_one in an 8 GiB guest, with slub_debug=U on kmalloc-192: two struct track per object.
set -e
insmod /modules/bigleak.ko nr=8000000
dmesg | grep 'bigleak:' > /out/bigleak.log
n=$(sed -n 's/.*holding \([0-9]*\) objects.*/\1/p' /out/bigleak.log)
echo "cache=kmalloc-192 function=bigleak_alloc_one module=bigleak count=$n" > /out/truth
