"""Run by drgn 0.3.0 for scripts/bench (scripts/peer drgn -q -c VMCORE -s VMLINUX THIS MODE [CACHE]):
  start        nothing more: drgn's start-up (the vmlinux's debug info and the dump)
  types        start-up and the first type look-ups (struct kmem_cache, struct page and
               an enumerator), which make drgn index the vmlinux's DWARF
  kmem-s       drgn's own crash-style `kmem -s` (slab_cache_usage(): counters, not exact)
  walk CACHE   drgn's exact object walk of one cache (slab_cache_for_each_allocated_object()),
               counting the objects, and printing "objects: N"."""
import sys

from drgn.commands import run_command
from drgn.helpers.linux.slab import find_slab_cache, slab_cache_for_each_allocated_object

mode = sys.argv[1]
if mode == "kmem-s":
    run_command(prog, "crash kmem -s")  # noqa: F821 (drgn's global)
elif mode == "walk":
    cache = find_slab_cache(prog, sys.argv[2])  # noqa: F821
    print("objects: %d" % sum(1 for _ in slab_cache_for_each_allocated_object(cache, "void")))
elif mode == "types":
    print("sizes: %d %d %d" % (prog.type("struct kmem_cache").size, prog.type("struct page").size,  # noqa: F821
                               prog.constant("MIGRATE_MOVABLE").value_()))  # noqa: F821
elif mode != "start":
    sys.exit("drgn_bench.py: unknown mode %r" % mode)
