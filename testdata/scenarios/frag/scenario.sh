#!/bin/sh
# Fragment the buddy allocator: no free block of order >= 4 anywhere fragger
# can reach (DMA32, and Normal if the guest has one).
# Keep the kernel from compacting behind our back: proactive compaction and
# watermark boosting (which wakes kswapd then kcompactd) would migrate old
# movable pages out of whole blocks and re-create order >= 4 free blocks.
echo 0 > /proc/sys/vm/compaction_proactiveness
echo 0 > /proc/sys/vm/watermark_boost_factor
insmod /modules/fragger.ko min_order=4
sleep 1	# let fragger's periodic sweep catch blocks freed by insmod's exit
# Self-check (columns 9.. of buddyinfo are orders 4 and up).  Pages that were
# in use before fragger ran can still free up into a whole block until the
# next sweep (every 50 ms), so look a few times before calling it a failure.
for try in 1 2 3 4 5; do
	cat /proc/buddyinfo > /out/buddyinfo
	awk '$4 != "DMA" { for (i = 9; i <= NF; i++) if ($i != 0) bad = 1 }
	     END { print (bad ? "check=FAIL" : "check=ok") }' /out/buddyinfo > /out/check
	grep -q ok /out/check && break
	usleep 100000
done
cat /out/buddyinfo /out/check
dmesg | grep 'fragger:' > /out/fragger.log
echo "no free block of order >= 4 in DMA32/Normal (DMA may keep some); free memory is large but all in orders 0-3" > /out/truth
