"""slableak: exact SLUB accounting of every cache (issue 3).

Oracles: the newest peers' per-cache counts (crash 9.0.2's `kmem -s`, or
drgn 0.3.0's object walk where crash cannot walk the slabs), the extension
and the standalone program agreeing with each other, and the leak scenarios' known
truth (N objects more in kmalloc-128 than in baseline).
"""

import functools
import json
import os
import re
import subprocess

from lab import (EXTENSION, FORMATS, KERNELS, LAB_PLAN, LEAK_N, REPO, crash, crash_extension,
                 crash_stopped_on_excluded_page, drgn_slab_walk, dump, info, peer_kmem_s, proc)

SCENARIOS = ("baseline", "leak-tracked", "leak-untracked")
MEMDIAG = os.path.join(REPO, "build", "memdiag")
_built = set()


def build(target):
    if target not in _built:
        sanitize = ["SANITIZE=1"] if target.startswith("build/asan/") else []
        subprocess.run(["make", "-s", "-C", REPO] + sanitize + [target], check=True, stdout=subprocess.DEVNULL)
        _built.add(target)


@functools.lru_cache(None)
def schema_validator():
    import jsonschema
    schema = json.load(open(os.path.join(REPO, "doc", "memdiag.schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(doc):
    """Where doc breaks doc/memdiag.schema.json: ["path: message", ...]."""
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message[:300]
            for e in schema_validator().iter_errors(doc)]


def memdiag(outdir, *args, binary=MEMDIAG, check=True, validate=True):
    """Runs memdiag on outdir's dump.  A --json document it prints is held to
    the schema (doc/memdiag.schema.json) on the way, so that every test
    reading one checks the contract on its own dump."""
    build(os.path.relpath(binary, REPO))
    p = subprocess.run([binary, os.path.join(outdir, "vmlinux"), os.path.join(outdir, "vmcore")] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("memdiag %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stderr))
    if validate and "--json" in args and p.returncode == 0:
        errors = schema_errors(json.loads(p.stdout))
        assert not errors, "memdiag %s: not as doc/memdiag.schema.json says: %s" % (" ".join(args), errors[:5])
    return p


def slableak_json(outdir, binary=MEMDIAG):
    doc = json.loads(memdiag(outdir, "--json", "slableak", binary=binary).stdout)
    return {c["name"]: c for c in doc["caches"]}, doc


ROW = re.compile(r"^([0-9a-f]{16})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)k\s+(\d+)\s+(yes|no)\s+(\S.*?)\s*$")


def parse_slableak_text(text):
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(9)] = {"address": "0x" + m.group(1), "object_size": int(m.group(2)),
                                "allocated": int(m.group(3)), "total": int(m.group(4)),
                                "slabs": int(m.group(5)), "bytes_kib": int(m.group(7)),
                                "reclaimable": m.group(8) == "yes"}
    return rows


def each_dump(formats=FORMATS):
    for k in KERNELS:
        for s in SCENARIOS:
            for f in formats:
                yield "%s/%s/%s" % (k, s, f), dump(k, s, f)


def slab_oracle(kernel, scenario):
    """The newest peer's per-cache counts for the boot behind a lab dump, from
    its elf file (all three formats are that one boot): crash 9.0.2's
    `kmem -s` where it walks this kernel's slabs, else drgn 0.3.0's exact
    object walk (7.x).  Returns (peer, {address: (name, (allocated, total, slabs))})."""
    out = dump(kernel, scenario, "elf")
    rows = peer_kmem_s(out)
    if rows:
        return "crash 9.0.2", rows
    return "drgn 0.3.0", {d["address"]: (n, (d["allocated"], d["total"], d["slabs"]))
                          for n, d in drgn_slab_walk(out).items()}


def test_slableak_equals_the_newest_peers():
    """Every cache of every lab dump: allocated, total and slabs equal the newest
    peer's (slab_oracle()).  Two differences are right, and only those pass:
    - drgn 0.3.0 counts the objects of a CPU's rcu_free sheaf as allocated; it
      takes out those of the main and spare sheaves and of the barns, but
      kfree_rcu() has freed the rcu_free ones too, which wait only for a grace
      period (mm/slub.c __kfree_rcu_sheaf()).  memdiag counts them free and
      says how many (free_in_sheaves.rcu_free), which is added back here;
      and in a panic's dump, those of the CPUs the panic took offline
      (drgn_skipped_cpu()).
    - In a filtered dump, a cache whose slab, sheaf or barn pages
      makedumpfile left out cannot be counted, nor a name in a page it left
      out be read: memdiag must name the excluded page in the cache's errors,
      and the clean formats of the same boot must be exact.  A page of the
      kmem_cache itself costs only its fields there (issue 13, 7)."""
    for k in KERNELS:
        for s in LAB_PLAN[k]:
            for f in FORMATS:
                yield "%s/%s/%s" % (k, s, f), lambda k=k, s=s, f=f: check_against_oracle(k, s, f)


def drgn_skipped_cpu(out, ours, theirs):
    """The CPU whose sheaves drgn 0.3.0 left out, or None.

    drgn looks only at the online CPUs' sheaves, and a panic takes the other
    CPUs offline as it stops them: in 7.x's OOM dumps, drgn counts the
    objects in one CPU's main and spare sheaves as allocated.  memdiag reads
    every possible CPU's.  Accepted only in a dump of a panic, and only when
    one CPU's sheaves (free_in_sheaves.cpu_by_cpu) are exactly every cache's
    difference (seen: 203 of 203 caches, on 7.2's oom, oom-panic and
    oom-null-chosen and 7.3's oom)."""
    diffs = {a: theirs[a][1][0] - c["allocated"] - (c.get("free_in_sheaves") or {}).get("rcu_free", 0)
             for a, c in ours.items() if a in theirs}
    if not any(diffs.values()) or not info(out)["panicked"]:
        return None
    nr_cpus = max(len((c.get("free_in_sheaves") or {}).get("cpu_by_cpu", [])) for c in ours.values())
    for cpu in range(nr_cpus):
        if all(d == ((ours[a].get("free_in_sheaves") or {}).get("cpu_by_cpu") or [0] * nr_cpus)[cpu]
               for a, d in diffs.items()):
            return cpu
    return None


def check_against_oracle(kernel, scenario, fmt):
    out = dump(kernel, scenario, fmt)
    peer, theirs = slab_oracle(kernel, scenario)
    _, doc = slableak_json(out)
    ours = {int(c["address"], 16): c for c in doc["caches"]}
    assert set(ours) == set(theirs), "caches only in one (%s): %s" % (
        peer, sorted("%#x %s" % (a, (ours.get(a) or {}).get("name") or theirs[a][0]) for a in set(ours) ^ set(theirs)))
    skipped = None
    if peer.startswith("drgn"):     # found on the boot's ELF dump, which lost nothing
        elf = dump(kernel, scenario, "elf")
        skipped = drgn_skipped_cpu(elf, {int(c["address"], 16): c for c in slableak_json(elf)[1]["caches"]}, theirs)
    wrong, lost, with_sheaves = [], [], 0
    for address, c in ours.items():
        name, counts = theirs[address]
        sheaves = c.get("free_in_sheaves") or {}
        with_sheaves += bool(sheaves.get("capacity"))
        rcu_free = sheaves.get("rcu_free", 0) if peer.startswith("drgn") else 0
        if skipped is not None:
            rcu_free += (sheaves.get("cpu_by_cpu") or [0] * (skipped + 1))[skipped]
        if fmt == "filtered" and (c["name"] != name or (c["allocated"] + rcu_free, c["total"], c["slabs"]) != counts):
            # what makedumpfile left out: a name in an excluded page, or slabs
            if c["name"] != name:
                assert re.match(r"^\((unreadable name at|kmem_cache) 0x[0-9a-f]+\)$", c["name"]), (c["name"], name)
                assert any("excluded" in e for e in c["errors"]), (name, c["errors"])
            if (c["allocated"] + rcu_free, c["total"], c["slabs"]) != counts:
                # a slab, sheaf or barn page: a lost name or other field of
                # the kmem_cache itself costs no count (read_cache())
                assert any("excluded" in e and not e.startswith(("its name", "part of its kmem_cache"))
                           and "its counters (not compared)" not in e
                           for e in c["errors"]), (name, c["errors"])
            lost.append(name)
            continue
        if (c["name"], (c["allocated"] + rcu_free, c["total"], c["slabs"])) != (name, tuple(counts)):
            wrong.append("%s: memdiag %s%s, %s %s" % (name, (c["name"], c["allocated"], c["total"], c["slabs"]),
                                                      " (+%d rcu_free)" % rcu_free if rcu_free else "", peer,
                                                      tuple(counts)))
    assert not wrong, "%d caches differ:\n%s" % (len(wrong), "\n".join(wrong[:20]))
    if fmt != "filtered":
        dirty = ["%s: %s" % (c["name"], c["errors"]) for c in ours.values() if c["errors"]]
        assert not dirty and not doc["errors"], "problems reported on a clean dump:\n%s\n%s" % (
            "\n".join(dirty[:20]), doc["errors"])
    if peer.startswith("drgn"):
        # the walk met sheaves at all: most caches have them since 7.0
        assert with_sheaves > len(ours) // 2, (with_sheaves, len(ours))


def test_extension_agrees_with_standalone():
    """crash's `extend memdiag.so; slableak` prints what `memdiag --json slableak` says.

    The extension takes its types from the vmlinux's BTF (its default).
    crash runs with tests/crash_malloc0.c preloaded (tests/lab.py crash()):
    on 6.12 it would otherwise run on a heap its own start-up corrupted.
    The kdump and filtered dumps (crash reads the ELF ones in other tests,
    and a crash start-up costs 5 to 30 s).
    """
    for name, out in each_dump(formats=("kdump", "filtered")):
        def case(out=out):
            build("build/memdiag.so")
            ours, _ = slableak_json(out)
            text, session = crash_extension(out, "slableak --wide")   # every column
            if crash_stopped_on_excluded_page(out, session):
                return
            theirs = parse_slableak_text(text)
            assert theirs, "no slableak rows in crash:\n" + session[-3000:]
            assert set(theirs) == set(ours), "caches only in one: %s" % (set(ours) ^ set(theirs))
            for n, row in theirs.items():
                c = ours[n]
                want = {"address": c["address"], "object_size": c["object_size_bytes"], "allocated": c["allocated"],
                        "total": c["total"], "slabs": c["slabs"], "bytes_kib": c["memory_bytes"] >> 10,
                        "reclaimable": c["reclaimable"]}
                assert row == want, "%s: crash extension %s, standalone %s" % (n, row, want)
        yield name, case


def test_leak_is_counted():
    """kmalloc-128 holds N objects more in leak-tracked than in baseline, within 1%."""
    for k in KERNELS:
        for f in FORMATS:
            def case(k=k, f=f):
                base = slableak_json(dump(k, "baseline", f))[0]["kmalloc-128"]["allocated"]
                leak = slableak_json(dump(k, "leak-tracked", f))[0]["kmalloc-128"]["allocated"]
                assert abs((leak - base) - LEAK_N) <= LEAK_N // 100, \
                    "leak-tracked %d - baseline %d = %d, expected %d" % (leak, base, leak - base, LEAK_N)
            yield "%s/%s" % (k, f), case


def test_guest_slabinfo_bounds():
    """The guest's own /proc/slabinfo num_objs equals our total for every cache
    it lists, within what the processes run after that capture can add.

    /proc/slabinfo's num_objs is the sum of kmem_cache_node.total_objects,
    which a stopped VM keeps exact; active_objs is not comparable (SLUB counts
    objects on CPU slabs as active).  The guest prints slabinfo a moment
    before the dump and reads the last /proc files after it: seq_file,
    pde_opener and their kmalloc-cg-4k buffers (fs/seq_file.c seq_open(),
    fs/proc/inode.c proc_reg_open()) can gain a slab in between, and so can
    every cache a new process touches (task_struct, maple_node, lsm_inode_cache,
    vmap_area, ...).  After slabinfo, scripts/mkvmcore GUEST_INIT runs 2n + 2
    processes, n being the reads of /proc/vmallocinfo (proc/vmallocinfo-reads,
    up to 6: the other three cat views, then a cat and a cmp per read after
    the first).  Each takes a few objects of each cache it touches (a fork
    copies a tree of a few maple nodes, kernel/fork.c dup_mmap()), fewer
    than a slab holds, so at most one new slab of it.  So each cache may
    differ by two slabs plus one per process (on 7.x and a sheaf more: see
    below), and at most 16 caches may differ at all (a leak of 20,000
    objects is hundreds of slabs).  A clean machine's 6.12-la57 baseline,
    with 6 reads, had maple_node 3 slabs apart."""
    from lab import slabinfo
    for k in KERNELS:
        for s in SCENARIOS:
            def case(k=k, s=s):
                out = dump(k, s, "elf")
                ours = slableak_json(out)[0]
                guest = slabinfo(out)
                processes = 2 * int(proc(out, "vmallocinfo-reads")) + 2
                differ = {n: (guest[n][1], ours[n]["total"]) for n in ours
                          if n in guest and guest[n][1] != ours[n]["total"]}
                text = "\n".join("%s: guest %d, memdiag %d" % (n, g, o) for n, (g, o) in differ.items())
                assert len(differ) <= 16, text
                for n, (g, o) in differ.items():
                    per_slab = ours[n]["total"] // ours[n]["slabs"] if ours[n]["slabs"] else \
                        ours[n]["slab_size_bytes"] // ours[n]["slot_size_bytes"]
                    # 7.x: a process's first allocations refill a CPU's sheaf, up to
                    # its capacity in objects, from new slabs if need be
                    sheaf = (ours[n].get("free_in_sheaves") or {}).get("capacity", 0)
                    assert abs(g - o) <= (2 + processes) * per_slab + sheaf, \
                        "%s: more than %d slabs%s apart\n%s" % (n, 2 + processes, " and a sheaf" if sheaf else "", text)
            yield "%s/%s" % (k, s), case


def test_sanitized_build_agrees():
    """The ASan+UBSan build runs clean on every lab dump and prints the same JSON."""
    asan = os.path.join(REPO, "build", "asan", "memdiag")
    for name, out in each_dump():
        def case(out=out):
            p = memdiag(out, "--json", "slableak", binary=asan)
            assert not re.search(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer", p.stderr), p.stderr
            assert json.loads(p.stdout) == json.loads(memdiag(out, "--json", "slableak").stdout)
        yield name, case


def test_memory_hole_is_not_missing_memory():
    """memory-hole: node 0's span has 256 MiB without memory (e820 reserved,
    its memory sections absent, no struct pages), as the PCI hole below
    4 GiB on every machine with more than 3 GiB.  The guest's own e820 map
    and zoneinfo show the hole; memdiag must not call it struct pages
    missing from the dump (issue 13, 8), and counts every cache exactly
    (test_slableak_equals_the_newest_peers)."""
    for k in KERNELS:
        if "memory-hole" not in LAB_PLAN[k]:
            continue
        for f in FORMATS:
            def case(k=k, f=f):
                out = dump(k, "memory-hole", f)
                dmesg = open(os.path.join(out, "proc", "dmesg")).read()
                assert re.search(r"user: \[mem 0x0*8000000-0x0*17ffffff\] reserved", dmesg), "no hole in the e820 map"
                zoneinfo = open(os.path.join(out, "proc", "zoneinfo")).read()
                dma32 = zoneinfo[zoneinfo.index("zone    DMA32"):]
                spanned = int(re.search(r"spanned\s+(\d+)", dma32).group(1))
                present = int(re.search(r"present\s+(\d+)", dma32).group(1))
                assert spanned - present >= 65536, (spanned, present)
                for command in ("slableak", "memdiag"):
                    doc = json.loads(memdiag(out, "--json", command).stdout)
                    errors = doc["errors"] if command == "slableak" else doc["errors"] + doc.get("meminfo_errors", [])
                    assert not [e for e in errors if "struct pages" in e], errors
                    if f != "filtered":
                        assert not errors, errors
            yield "%s/%s" % (k, f), case
