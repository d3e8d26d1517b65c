"""Run by drgn 0.3.0 (scripts/peer drgn -q -c VMCORE -s VMLINUX THIS OUT.json):
every slab cache's allocated objects by drgn's exact object walk
(slab_cache_for_each_allocated_object), and its slabs and objects
(slab_cache_usage), as JSON {name: {"allocated", "slabs", "total"}}."""
import json
import sys

from drgn.helpers.linux.slab import for_each_slab_cache, slab_cache_for_each_allocated_object, slab_cache_usage

caches = {}
for cache in for_each_slab_cache(prog):  # noqa: F821 (drgn's global)
    usage = slab_cache_usage(cache)
    caches[cache.name.string_().decode()] = {
        "allocated": sum(1 for _ in slab_cache_for_each_allocated_object(cache, "void")),
        "slabs": int(usage.num_slabs),
        "total": int(usage.num_objs),
    }
json.dump(caches, open(sys.argv[1], "w"), indent=1, sort_keys=True)
