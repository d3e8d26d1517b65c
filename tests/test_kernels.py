"""Kernel lines beyond `make lab`'s (issue 12): Debian 7.2 and 7.3, whose
SLUB keeps free objects in per-CPU sheaves and per-node barns and has no
per-CPU slabs.

Oracles: drgn 0.3.0's exact object walk (slab_cache_for_each_allocated_object,
run in the lab's sid chroot by scripts/peer; crash 9.0.2's `kmem -s` fails on
7.x: "invalid structure member offset: kmem_cache_local_node"), and the free
lists the lab's mdfreeze printed at the dumped instant (frozen/).
"""

import json
import os
import re
import subprocess

from lab import LEAK_N, REPO, dump
from test_buddyfrag import check_counts_against_frozen
from test_slab import memdiag, slableak_json

NEW_KERNELS = ("7.2", "7.3")
# drgn's walk of every cache takes a minute per dump: baseline on each
# kernel, and the 20,000-object leak on 7.2.
DRGN_DUMPS = (("7.2", "baseline"), ("7.2", "leak-untracked"), ("7.3", "baseline"))
PEER = os.path.join(REPO, "scripts", "peer")


def drgn_slab_walk(out):
    """tests/peers/drgn_slab_walk.py's answer for a dump, kept beside the
    dump's link in build/lab (the walk of every cache takes about a minute)."""
    path = os.path.join(out, "drgn-slab-walk.json")
    vmcore = os.path.realpath(os.path.join(out, "vmcore"))
    if not (os.path.exists(path) and os.path.getmtime(path) > os.path.getmtime(vmcore)):
        p = subprocess.run([PEER, "drgn", "-q", "-c", vmcore, "-s", os.path.realpath(os.path.join(out, "vmlinux")),
                            os.path.join(REPO, "tests", "peers", "drgn_slab_walk.py"), path + ".new"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
        assert p.returncode == 0, "drgn failed:\n" + p.stdout[-3000:]
        os.rename(path + ".new", path)
    return json.load(open(path))


def test_slableak_equals_drgns_object_walk():
    """Every cache: slabs and objects equal drgn's, and allocated equals drgn's
    walk less the cache's rcu_free sheaves: drgn 0.3.0 takes out the objects
    in each CPU's main and spare sheaves and in the barns' full sheaves, but
    not those in a CPU's rcu_free sheaf, which kfree_rcu() has freed and
    which wait only for a grace period (mm/slub.c __kfree_rcu_sheaf()).
    memdiag counts them free and says how many (free_in_sheaves.rcu_free)."""
    for k, s in DRGN_DUMPS:
        def case(k=k, s=s):
            check_slableak_against_drgn(dump(k, s, "elf"))
        yield "%s/%s/elf" % (k, s), case


def check_slableak_against_drgn(out):
    ours, doc = slableak_json(out)
    theirs = drgn_slab_walk(out)
    assert doc["errors"] == [], doc["errors"]
    assert set(ours) == set(theirs), set(ours) ^ set(theirs)
    with_sheaves = 0
    wrong = []
    for name, c in ours.items():
        d = theirs[name]
        assert c["errors"] == [], (name, c["errors"])
        sheaves = c.get("free_in_sheaves") or {}
        with_sheaves += bool(sheaves.get("capacity"))
        if (c["allocated"] + sheaves.get("rcu_free", 0), c["total"], c["slabs"]) != \
                (d["allocated"], d["total"], d["slabs"]):
            wrong.append("%s: memdiag %s (+%d rcu_free), drgn %s" % (
                name, (c["allocated"], c["total"], c["slabs"]), sheaves.get("rcu_free", 0),
                (d["allocated"], d["total"], d["slabs"])))
    assert not wrong, "\n".join(wrong)
    # the walk met sheaves at all: most caches have them since 7.0
    assert with_sheaves > len(ours) // 2, (with_sheaves, len(ours))


def test_leak_truth():
    """leak-untracked: the module's 20,000 kmalloc-128 objects are found, within
    1%, as the summary's probable leak (their content signature: &leaky_ops)."""
    for k in NEW_KERNELS:
        def case(k=k):
            out = dump(k, "leak-untracked", "elf")
            v = json.loads(memdiag(out, "--json").stdout)["verdicts"]
            assert v[0]["kind"] == "slab-leak" and v[0]["next"] == "slableak -u kmalloc-128", v
            m = re.match(r"^kernel slab leak: kmalloc-128: ([\d,]+) of [\d,]+ objects .* &leaky_ops \[leaky\].*"
                         r"probable leak$", v[0]["text"])
            assert m and abs(int(m.group(1).replace(",", "")) - LEAK_N) <= LEAK_N // 100, v[0]["text"]
        yield "%s/leak-untracked/elf" % k, case


def test_buddyfrag_equals_the_frozen_free_lists():
    """Per zone, order and migratetype, the free blocks equal what the kernel
    counted at the dumped instant (mdfreeze), with NR_FREE_PAGES verified."""
    for k in NEW_KERNELS:
        def case(k=k):
            check_counts_against_frozen(dump(k, "baseline", "elf"))
        yield "%s/baseline/elf" % k, case


def test_no_oom_control_on_a_quiet_machine():
    """baseline: no OOM ran, so no struct oom_control is found on any stack.
    On 7.2 words on many kernel stacks looked like a memcg OOM's (NULL
    zonelist, a pointer where memcg is, small totalpages) until a memcg OOM's
    oc had to name a real mem_cgroup, no nodemask, and CONSTRAINT_MEMCG once
    totalpages is set."""
    for k in NEW_KERNELS:
        def case(k=k):
            out = dump(k, "baseline", "elf")
            doc = json.loads(memdiag(out, "--json", "oomstate").stdout)
            assert doc["oom_controls"] == [], doc["oom_controls"]
        yield "%s/baseline/elf" % k, case
