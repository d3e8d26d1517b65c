"""Run by drgn 0.3.0 (scripts/peer drgn -q -c VMCORE -s VMLINUX THIS OUT.json CACHE...):
addresses for `whatis` to be asked about, chosen by drgn's own walks, and
what drgn says of each, as JSON [{"address", "kind", "truth", "identify"}]:

  object:   allocated objects of each CACHE (slab_cache_for_each_allocated_object())
            and free slots of their slabs (slab_object_info() allocated False),
            at +0 and +0x18; truth [cache, object, allocated]
  vmalloc:  busy vmap areas (for_each_vmap_area()), at +0x10; truth [start, end]
  stack:    some tasks' kernel stacks (task->stack), at +0x3f00; truth [pid, comm]

"identify" is drgn's identify_address() of the address."""
import json
import sys

from drgn.helpers.common.memory import identify_address
from drgn.helpers.linux.mm import for_each_vmap_area
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.slab import find_slab_cache, slab_cache_for_each_allocated_object, slab_object_info

PER_CACHE = 8
OFFSETS = (0, 0x18)

out, caches = sys.argv[1], sys.argv[2:]
found = []
for name in caches:
    cache = find_slab_cache(prog, name)  # noqa: F821 (drgn's global)
    if cache is None:
        continue
    allocated = []
    for obj in slab_cache_for_each_allocated_object(cache, "void"):
        allocated.append(obj.value_())
        if len(allocated) == PER_CACHE:
            break
    size = cache.size.value_()
    free = []
    for a in allocated:
        info = slab_object_info(prog, a)  # noqa: F821
        start = info.address if info else a
        # the other slots of the same slab, as far as a page's worth
        for slot in range(-16, 16):
            b = start + slot * size
            i = slab_object_info(prog, b) if slot else None  # noqa: F821
            if i is not None and i.allocated is False and i.address == b and b not in free and \
                    i.slab_cache.value_() == cache.value_():
                free.append(b)
        if len(free) >= PER_CACHE:
            break
    for a, alloc in [(a, True) for a in allocated] + [(b, False) for b in free[:PER_CACHE]]:
        for off in OFFSETS:
            found.append({"address": a + off, "kind": "object", "truth": [name, a, alloc]})
areas = [va for va in for_each_vmap_area(prog) if va.vm]  # noqa: F821
for va in areas[::max(1, len(areas) // 12)][:12]:
    found.append({"address": va.va_start.value_() + 0x10, "kind": "vmalloc",
                  "truth": [va.va_start.value_(), va.va_end.value_()]})
tasks = [t for t in for_each_task(prog) if t.pid.value_() > 0][:6]  # noqa: F821
for t in tasks:
    found.append({"address": t.stack.value_() + 0x3f00, "kind": "stack",
                  "truth": [t.pid.value_(), t.comm.string_().decode()]})
cache = {}
for f in found:
    f["identify"] = identify_address(prog, f["address"], cache=cache)  # noqa: F821
with open(out, "w") as o:
    json.dump(found, o)
