#!/bin/sh
# A large dump for scripts/bench: a million tracked kmalloc(100) objects
# from leaky_alloc_one in a 2 GiB guest.
set -e
insmod /modules/leaky.ko nr=1000000 keep=1
echo "cache=kmalloc-128 function=leaky_alloc_one module=leaky count=1000000" > /out/truth
