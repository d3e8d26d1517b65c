#!/bin/sh
# Flood the dentry cache: 100000 empty files on tmpfs (positive dentries and
# shmem inodes) plus 600000 lookups of missing names in sysfs, each leaving
# an unused negative dentry (kernfs caches them; tmpfs does not).
set -e
cat /proc/sys/fs/dentry-state > /out/dentry-state.before
# A tmpfs of its own: /tmp's default inode limit (RAM pages / 2) is ~60000.
mkdir -p /tmp/flood
mount -t tmpfs -o nr_inodes=200000 flood /tmp/flood
mkfiles /tmp/flood 100000 /sys/kernel 600000
cat /proc/sys/fs/dentry-state > /out/dentry-state
grep -E '^(Slab|SReclaimable|SUnreclaim):' /proc/meminfo > /out/meminfo.slab
grep -E '^(dentry|shmem_inode_cache) ' /proc/slabinfo > /out/slabinfo.flood
echo "files=100000 negative_lookups=600000 dentry=large SReclaimable=large leak=no" > /out/truth
cat /out/dentry-state /out/meminfo.slab /out/slabinfo.flood
