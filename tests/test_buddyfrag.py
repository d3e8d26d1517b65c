"""buddyfrag: the buddy allocator from the dump (issue 5).

Oracles: the free block counts per order and migratetype that the lab's
mdfreeze module printed at the dumped instant, every CPU stopped
(OUTDIR/frozen/: buddyinfo and pagetypeinfo in the kernel's own format; the
guest's /proc captures come a moment earlier, and frag's 50 ms sweep or a
per-CPU list drain moves pages in between), the kernel's formulas in
mm/vmstat.c recomputed here from those captured files, the scenarios' truth
(frag: no free block of order >= 4 in DMA32; baseline: unfragmented), and
crash 8.0.2's `kmem -f` on the 6.1 dumps.
"""

import json
import re
import struct
import subprocess

from lab import FORMATS, KERNELS, crash, crash_extension, dump, frozen, patched_copy, proc
from test_slab import build, memdiag

SCENARIOS = ("baseline", "frag", "leak-tracked", "memory-hole")


def buddyfrag(out, *args, **kw):
    return json.loads(memdiag(out, "--json", "buddyfrag", *args, **kw).stdout)


def buddyinfo(out):
    """{zone: [blocks per order]} as /proc/buddyinfo at the dumped instant (node 0)."""
    rows = {}
    for line in frozen(out, "buddyinfo").splitlines():
        f = line.split()
        rows[f[3]] = [int(x) for x in f[4:]]
    return rows


def pagetypeinfo(out):
    """{(zone, type): [blocks per order]} as /proc/pagetypeinfo at the dumped instant."""
    rows = {}
    for line in frozen(out, "pagetypeinfo").splitlines():
        m = re.match(r"^Node\s+\d+, zone\s+(\S+), type\s+(\S+)\s+([\d\s]+)$", line)
        if m:
            rows[(m.group(1), m.group(2))] = [int(x) for x in m.group(3).split()]
    return rows


def test_counts_equal_the_kernels_at_the_dump():
    """Per zone and order the walked blocks equal buddyinfo, per migratetype
    pagetypeinfo, as the kernel counted them at the dumped instant (frozen/),
    exactly; nr_free and NR_FREE_PAGES agree with the walk, the counter with
    its per-CPU deltas not yet folded (zone_page_state_snapshot()): at an
    arbitrary instant, such as the frozen one, only that sum is exact."""
    for k in KERNELS:
        for s in SCENARIOS:
            for f in FORMATS:
                def case(k=k, s=s, f=f):
                    check_counts_against_frozen(dump(k, s, f))
                yield "%s/%s/%s" % (k, s, f), case


def check_counts_against_frozen(out):
    """buddyfrag's counts of one dump against frozen/ (see above)."""
    doc = buddyfrag(out)
    guest, types = buddyinfo(out), pagetypeinfo(out)
    assert sorted(z["zone"] for z in doc["zones"]) == sorted(guest), (doc["zones"], guest)
    for z in doc["zones"]:
        assert z["free_blocks"] == guest[z["zone"]], (z["zone"], z["free_blocks"], guest[z["zone"]])
        assert set(z["free_blocks_by_type"]) == {t for (zn, t) in types if zn == z["zone"]}
        for t, counts in z["free_blocks_by_type"].items():
            assert counts == types[(z["zone"], t)], (z["zone"], t, counts, types[(z["zone"], t)])
        assert z["nr_free"] == z["free_blocks"], z["nr_free"]
        assert z["free_pages"] == z["nr_free_pages"] + z["nr_free_pages_pcpu_delta_pages"], z
        assert z["errors"] == [], z["errors"]


def extfrag_index(counts, order):
    """mm/vmstat.c fill_contig_page_info() + __fragmentation_index(), in thousandths."""
    total = sum(counts)
    pages = sum(n << o for o, n in enumerate(counts))
    suitable = sum(n << (o - order) for o, n in enumerate(counts) if o >= order)
    if not total:
        return 0
    if suitable:
        return -1000
    return 1000 - (1000 + pages * 1000 // (1 << order)) // total


def unusable_index(counts, order):
    """mm/vmstat.c unusable_free_index(), in thousandths."""
    pages = sum(n << o for o, n in enumerate(counts))
    suitable = sum(n << (o - order) for o, n in enumerate(counts) if o >= order)
    if not pages:
        return 1000
    return (pages - (suitable << order)) * 1000 // pages


def test_indices_follow_the_kernels_formulas():
    """extfrag_index and unusable_index of every zone and order, recomputed from the
    captured /proc/buddyinfo by the kernel's formulas."""
    for k in KERNELS:
        for s in ("baseline", "frag"):
            def case(k=k, s=s):
                out = dump(k, s, "elf")
                guest = buddyinfo(out)
                for z in buddyfrag(out)["zones"]:
                    counts = guest[z["zone"]]
                    for row in z["orders"]:
                        o = row["order"]
                        assert row["extfrag_index"] == extfrag_index(counts, o), (z["zone"], row)
                        assert row["unusable_index"] == unusable_index(counts, o), (z["zone"], row)
            yield "%s/%s" % (k, s), case


def test_verdicts():
    """frag: order >= 4 cannot be satisfied in DMA32 (the zone fragger works on);
    baseline: every order can, in every zone."""
    for k in KERNELS:
        def case(k=k):
            out = dump(k, "frag", "elf")
            # the scenario's truth at the dumped instant itself: else the lab,
            # not memdiag, is wrong (testdata/scenarios/frag/README)
            assert not any(buddyinfo(out)["DMA32"][4:]), "frag's dump breaks its truth:\n" + \
                frozen(out, "buddyinfo")
            zones = {z["zone"]: z for z in buddyfrag(out)["zones"]}
            dma32 = zones["DMA32"]
            assert dma32["first_unsatisfiable_order"] == 4, dma32["verdict"]["text"]
            assert "none of it in blocks >= order 4" in dma32["verdict"]["text"], dma32["verdict"]["text"]
            assert dma32["largest_free_order"] == 3
            assert [r["watermark_ok_low"] for r in dma32["orders"]][:5] == [True, True, True, True, False]
            for z in buddyfrag(dump(k, "baseline", "elf"))["zones"]:
                assert z["first_unsatisfiable_order"] is None, z["verdict"]["text"]
                assert "every order up to 10 can be satisfied" in z["verdict"]["text"], z["verdict"]["text"]
                assert all(r["watermark_ok_low"] for r in z["orders"]), z["orders"]
        yield k, case


def crash_kmem_f(out):
    """crash's `kmem -f` as {zone: [[blocks per migratetype] per order]}."""
    zones, zone = {}, None
    for line in crash(out, ["kmem -f"]).splitlines():
        m = re.match(r"^\s+\d+\s+(\S+)\s+\d+\s+\d+\s+[0-9a-f]{16}\s+[0-9a-f]+\s+\d+\s*$", line)
        if m:
            zone = zones.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\s+(\d+)\s+\d+k\s+[0-9a-f]{16}\s+(\d+)\s+(\d+)\s*$", line)
        if m and zone is not None:
            order = int(m.group(1))
            while len(zone) <= order:
                zone.append([])
            zone[order].append(int(m.group(2)))
    return zones


def test_counts_agree_with_crash_kmem_f():
    """6.1 dumps: blocks per zone, order and free list equal crash 8.0.2's `kmem -f`."""
    for s in ("baseline", "frag"):
        for f in FORMATS:
            def case(s=s, f=f):
                out = dump("6.1", s, f)
                theirs = crash_kmem_f(out)
                doc = buddyfrag(out)
                assert theirs, "crash printed no free area"
                for z in doc["zones"]:
                    by_type = z["free_blocks_by_type"]
                    ours = [[by_type[t][o] for t in doc["migratetypes"]] for o in range(doc["orders"])]
                    assert ours == theirs[z["zone"]], (z["zone"], ours, theirs[z["zone"]])
            yield "%s/%s" % (s, f), case


def test_extension_prints_the_same():
    for k in KERNELS:
        def case(k=k):
            build("build/memdiag.so")
            out = dump(k, "frag", "elf")
            ours = memdiag(out, "buddyfrag").stdout.splitlines()
            text, session = crash_extension(out, "buddyfrag")
            theirs = text.splitlines()
            assert len(ours) > 30
            missing = [l for l in ours if l not in theirs]
            assert not missing, "lines of the standalone output missing in crash: %s\ncrash printed:\n%s" % (
                missing[:5], session[-3000:])
        yield k, case


def test_corrupt_free_list_is_reported_and_the_rest_printed():
    """A copy of frag's 6.1 dump whose DMA32 order-2 Unmovable list head points at
    garbage: that list is reported (and marked), every other count still equals the
    guest's, and the command succeeds."""
    out = dump("6.1", "frag", "elf")
    doc = buddyfrag(out)
    z = [z for z in doc["zones"] if z["zone"] == "DMA32"][0]
    # The list head's address, from crash: kmem -f's FREE_AREA_STRUCT column.
    heads = {}
    zone = None
    for line in crash(out, ["kmem -f"]).splitlines():
        m = re.match(r"^\s+\d+\s+(\S+)\s+\d+\s+\d+\s+[0-9a-f]{16}", line)
        if m:
            zone = m.group(1)
            continue
        m = re.match(r"^\s+(\d+)\s+\d+k\s+([0-9a-f]{16})\s+\d+", line)
        if m and zone == "DMA32":
            heads.setdefault(int(m.group(1)), []).append(int(m.group(2), 16))
    head = heads[2][0]   # order 2, the first migratetype: Unmovable
    assert z["free_blocks_by_type"]["Unmovable"][2] > 0
    bad = patched_copy(out, "buddy-list", [(head, struct.pack("<Q", 0x4141414141414141))])
    p = memdiag(bad, "buddyfrag", "--wide", "-z", "DMA32")   # "!" lines unwrapped
    assert "! order 2 Unmovable list: after the list head 0x%x a bad pointer 0x4141414141414141" % head in p.stdout, p.stdout
    broken = buddyfrag(bad)
    zb = [z for z in broken["zones"] if z["zone"] == "DMA32"][0]
    for t, counts in zb["free_blocks_by_type"].items():
        for o, n in enumerate(counts):
            if (t, o) != ("Unmovable", 2):
                assert n == z["free_blocks_by_type"][t][o], (t, o)
    assert zb["free_blocks_by_type"]["Unmovable"][2] == 0
    assert "verdict" in zb and zb["verdict"]["text"].startswith("DMA32: ")
    assert re.search(r"^\s+Unmovable\s+\d+ \s+\d+ \s+0!", p.stdout, re.M), p.stdout


def test_blocks_listed_with_v():
    """-v lists each free block; for frag's DMA32 every listed pfn is aligned to its order
    and the number of order-3 blocks listed equals the table's."""
    out = dump("6.12", "frag", "elf")
    doc = buddyfrag(out, "-z", "DMA32", "-o", "3", "-v")
    z = doc["zones"][0]
    assert len(z["blocks"]) == z["free_blocks"][3] > 0
    assert all(b["order"] == 3 and b["pfn"] % 8 == 0 for b in z["blocks"])


def test_bad_arguments():
    out = dump("6.1", "baseline", "elf")
    build("build/memdiag")
    for args, msg in ((["-o", "11"], "this kernel's orders are 0 to 10"), (["-o", "x"], "-o wants an order"),
                      (["-q"], "unknown option '-q'"), (["-z", "Nowhere"], "no populated zone 'Nowhere'"),
                      (["-n", "7"], "no populated zone on node 7")):
        p = memdiag(out, "buddyfrag", *args, check=False)
        assert p.returncode == 2 and msg in p.stderr and p.stdout == "", (args, p)   # a usage error
    assert "0:DMA32" in p.stderr, p.stderr   # the zones there are
    # zone names as users type them
    assert memdiag(out, "buddyfrag", "-z", "dma32").stdout == memdiag(out, "buddyfrag", "-z", "DMA32").stdout
