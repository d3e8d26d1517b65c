"""slableak: exact SLUB accounting of every cache (issue 3).

Oracles: crash 8.0.2's `kmem -s` on the 6.1 dumps, the extension and the
standalone program agreeing with each other, and the leak scenarios' known
truth (N objects more in kmalloc-128 than in baseline).
"""

import json
import os
import re
import subprocess

from lab import EXTENSION, FORMATS, KERNELS, LEAK_N, REPO, crash, crash_extension, crash_kmem_s, crash_802_is_an_oracle, crash_stopped_on_excluded_page, dump

SCENARIOS = ("baseline", "leak-tracked", "leak-untracked")
MEMDIAG = os.path.join(REPO, "build", "memdiag")
_built = set()


def build(target):
    if target not in _built:
        sanitize = ["SANITIZE=1"] if target.startswith("build/asan/") else []
        subprocess.run(["make", "-s", "-C", REPO] + sanitize + [target], check=True, stdout=subprocess.DEVNULL)
        _built.add(target)


def memdiag(outdir, *args, binary=MEMDIAG, check=True):
    build(os.path.relpath(binary, REPO))
    p = subprocess.run([binary, os.path.join(outdir, "vmlinux"), os.path.join(outdir, "vmcore")] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("memdiag %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stderr))
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


def each_dump():
    for k in KERNELS:
        for s in SCENARIOS:
            for f in FORMATS:
                yield "%s/%s/%s" % (k, s, f), dump(k, s, f)


def test_standalone_agrees_with_crash_kmem():
    """Every cache of the dumps of kernels before 6.2 (crash_802_is_an_oracle()):
    allocated, total, slabs equal crash's `kmem -s`."""
    for name, out in each_dump():
        if not crash_802_is_an_oracle(out):
            continue

        def case(out=out):
            ours, doc = slableak_json(out)
            theirs = crash_kmem_s(out)
            assert len(theirs) > 100, "crash listed only %d caches" % len(theirs)
            assert set(ours) == set(theirs), "caches only in one: %s" % (set(ours) ^ set(theirs))
            wrong = ["%s: memdiag %s, crash %s" % (n, (c["allocated"], c["total"], c["slabs"]), theirs[n])
                     for n, c in ours.items() if (c["allocated"], c["total"], c["slabs"]) != theirs[n]]
            assert not wrong, "%d caches differ:\n%s" % (len(wrong), "\n".join(wrong[:20]))
            dirty = ["%s: %s" % (n, c["errors"]) for n, c in ours.items() if c["errors"]]
            assert not dirty and not doc["errors"], "problems reported on a clean dump:\n%s\n%s" % (
                "\n".join(dirty[:20]), doc["errors"])
        yield name, case


def test_extension_agrees_with_standalone():
    """crash's `extend memdiag.so; slableak` prints what `memdiag --json slableak` says.

    The extension takes its types from the vmlinux's BTF (its default).
    crash runs with tests/crash_malloc0.c preloaded (tests/lab.py crash()):
    on 6.12 it would otherwise run on a heap its own start-up corrupted.
    """
    for name, out in each_dump():
        def case(out=out):
            build("build/memdiag.so")
            ours, _ = slableak_json(out)
            text, session = crash_extension(out, "slableak")
            if crash_stopped_on_excluded_page(out, session):
                return
            theirs = parse_slableak_text(text)
            assert theirs, "no slableak rows in crash:\n" + session[-3000:]
            assert set(theirs) == set(ours), "caches only in one: %s" % (set(ours) ^ set(theirs))
            for n, row in theirs.items():
                c = ours[n]
                want = {"address": c["address"], "object_size": c["object_size"], "allocated": c["allocated"],
                        "total": c["total"], "slabs": c["slabs"], "bytes_kib": c["bytes"] >> 10,
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
    it lists, within two slabs of the cache.

    /proc/slabinfo's num_objs is the sum of kmem_cache_node.total_objects,
    which a stopped VM keeps exact; active_objs is not comparable (SLUB counts
    objects on CPU slabs as active).  The guest prints slabinfo a moment
    before the dump and reads the last /proc files after it: seq_file,
    pde_opener and their kmalloc-cg-4k buffers (fs/seq_file.c seq_open(),
    fs/proc/inode.c proc_reg_open()) can gain a slab in between, and so can
    every cache a new process touches (task_struct, maple_node, lsm_inode_cache,
    vmap_area, ...): after slabinfo the capture runs up to 6 more processes
    (scripts/mkvmcore GUEST_INIT: the other cat views, the reads of
    /proc/vmallocinfo and their cmp) and writes two tmpfs files.  So each
    cache may differ by up to two of its slabs, and at most 16 caches may
    differ at all (a leak of 20,000 objects is hundreds of slabs)."""
    from lab import slabinfo
    for k in KERNELS:
        for s in SCENARIOS:
            def case(k=k, s=s):
                out = dump(k, s, "elf")
                ours = slableak_json(out)[0]
                guest = slabinfo(out)
                differ = {n: (guest[n][1], ours[n]["total"]) for n in ours
                          if n in guest and guest[n][1] != ours[n]["total"]}
                text = "\n".join("%s: guest %d, memdiag %d" % (n, g, o) for n, (g, o) in differ.items())
                assert len(differ) <= 16, text
                for n, (g, o) in differ.items():
                    per_slab = ours[n]["total"] // ours[n]["slabs"] if ours[n]["slabs"] else \
                        ours[n]["slab_size"] // ours[n]["slot_size"]
                    assert abs(g - o) <= 2 * per_slab, "%s: more than two slabs apart\n%s" % (n, text)
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
