"""slableak CACHE: who holds a cache's objects; snapshot and diff (issue 4).

Oracles: the leak scenarios' known truth (module `leaky` allocates N
kmalloc-128 objects in leaky_alloc_one(), called from its init function),
the guest kernel's own /sys/kernel/slab/kmalloc-128/alloc_calls captured in
the lab (leak-tracked boots with slub_debug=U,kmalloc-128), and the
scenarios without a leak (baseline, dentry-flood) for false positives.
"""

import json
import os
import re
import subprocess
import tempfile

from lab import FORMATS, KERNELS, LEAK_N, crash, crash_extension, dump, slabinfo
from test_slab import EXTENSION, build, memdiag

ASAN = os.path.join(os.path.dirname(EXTENSION), "asan", "memdiag")


def analyze(out, cache="kmalloc-128", *extra, binary=None):
    args = ["--json", "slableak"] + list(extra) + ([cache] if cache else [])
    p = memdiag(out, *args, **({"binary": binary} if binary else {}))
    return json.loads(p.stdout)


def alloc_calls(out):
    """The guest's alloc_calls: [(count, 'func+0xoff/0xsize [mod]', [stack lines])]."""
    rows = []
    for line in open(os.path.join(out, "out", "alloc_calls")):
        m = re.match(r"^\s*(\d+) (\S+(?: \[\w+\])?) ", line)
        if m:
            rows.append((int(m.group(1)), m.group(2), []))
        elif line.strip() and rows:
            rows[-1][2].append(line.strip())
    return rows


def strip_size(name):
    """'leaky_fill+0x2c/0x8d [leaky]' -> 'leaky_fill+0x2c [leaky]' (alloc_calls prints %pS)."""
    return re.sub(r"(\+0x[0-9a-f]+)/0x[0-9a-f]+", r"\1", name)


def has_stack_depot(out):
    """Whether the kernel's struct track has a stack depot handle (pahole on its DWARF)."""
    text = subprocess.run(["pahole", "-F", "dwarf", "-C", "track", os.path.join(out, "vmlinux")],
                          stdout=subprocess.PIPE, text=True, check=True).stdout
    assert "struct track {" in text, text
    return re.search(r"\bhandle;", text) is not None


def test_callers_name_the_leaking_function():
    """leak-tracked: the top caller is leaky_alloc_one [leaky] with >= 99% of N objects, as
    the guest's own alloc_calls says, and its stack shows the module's init path."""
    for k in KERNELS:
        for f in FORMATS:
            def case(k=k, f=f):
                out = dump(k, "leak-tracked", f)
                doc = analyze(out)
                top = doc["callers"][0]
                assert top["caller"].startswith("leaky_alloc_one+0x") and top["caller"].endswith(" [leaky]"), top
                assert top["objects"] >= LEAK_N * 99 // 100, top
                guest = [r for r in alloc_calls(out) if r[1].startswith("leaky_alloc_one+")]
                assert guest, "the guest's alloc_calls has no leaky_alloc_one line"
                count, name, stack = guest[0]
                assert (top["objects"], top["caller"]) == (count, strip_size(name)), \
                    "memdiag %s, guest alloc_calls %s" % ((top["objects"], top["caller"]), (count, name))
                # The stack: the guest printed it from the same stack depot record.
                # Before the depot (5.18), alloc_calls printed no stacks; the track kept
                # one in addrs[], which memdiag reads: then only the init path is checked.
                if stack or has_stack_depot(out):
                    assert [strip_size(s) for s in stack] == top["stack"], (stack, top["stack"])
                assert any(n.startswith("do_init_module+") for n in top["stack"]), top["stack"]
                assert top["pids"] and top["oldest_s"] is not None and 0 <= top["oldest_s"] < 3600, top
                assert doc["verdict"]["kind"] == "probable leak", doc["verdict"]
                assert "leaky_alloc_one" in doc["verdict"]["text"], doc["verdict"]
            yield "%s/%s" % (k, f), case


def test_extension_prints_the_same_suspects():
    """crash's `slableak kmalloc-128` names the same top caller and verdict as the standalone
    program (on 6.12 crash runs without modules: the core reads module symbols itself)."""
    for k in KERNELS:
        for s in ("leak-tracked", "leak-untracked"):
            def case(k=k, s=s):
                build("build/memdiag.so")
                out = dump(k, s, "elf")
                ours = memdiag(out, "slableak", "kmalloc-128").stdout
                theirs, session = crash_extension(out, "slableak kmalloc-128")
                verdict = [l for l in ours.splitlines() if l.startswith("verdict: ")]
                assert verdict and verdict[0] in theirs.splitlines(), \
                    "standalone %r not in crash's output:\n%s" % (verdict, theirs[-3000:] + session[-3000:])
                first = [l for l in ours.splitlines() if re.match(r"^\s+[\d,]+\s+\S+ \S+\s+", l)][:3]
                for line in first:
                    assert line in theirs.splitlines(), "%r missing in crash:\n%s" % (line, theirs[-3000:])
            yield "%s/%s" % (k, s), case


def test_signature_finds_untracked_leak():
    """leak-untracked (no slub_debug): the top content signature covers >= 95% of N and
    names the module's ops table."""
    for k in KERNELS:
        for f in FORMATS:
            def case(k=k, f=f):
                doc = analyze(dump(k, "leak-untracked", f))
                assert doc["tracked"] == 0 and doc["callers"] == [], doc["callers"][:2]
                top = doc["signatures"][0]
                assert top["signature"].startswith("&leaky_ops [leaky] "), top
                assert top["objects"] >= LEAK_N * 95 // 100, top
                assert doc["verdict"]["kind"] == "probable leak", doc["verdict"]
            yield "%s/%s" % (k, f), case


def verdicts(out):
    return {v["cache"]: v for v in analyze(out, None, "-l", "-n", "0")["verdicts"]}


def test_no_false_positives_without_a_leak():
    """baseline and dentry-flood: no cache is called a leak (README quotes the figure)."""
    for k in KERNELS:
        for s in ("baseline", "dentry-flood"):
            def case(k=k, s=s):
                v = verdicts(dump(k, s, "elf"))
                assert len(v) > 50, len(v)   # every cache with allocated objects
                flagged = [x["text"] for x in v.values() if x["kind"] in ("probable leak", "possible leak")]
                assert not flagged, "\n".join(flagged)
            yield "%s/%s" % (k, s), case


def test_only_the_leak_is_flagged():
    for k in KERNELS:
        for s in ("leak-tracked", "leak-untracked"):
            def case(k=k, s=s):
                v = verdicts(dump(k, s, "elf"))
                flagged = sorted(n for n, x in v.items() if x["kind"] in ("probable leak", "possible leak"))
                assert flagged == ["kmalloc-128"], flagged
            yield "%s/%s" % (k, s), case


def test_dentry_flood_is_reclaimable():
    """dentry-flood: the 100,000 tmpfs files' dentries and more (the 600,000
    negative sysfs dentries stay on 6.x, not on 5.10: the guest's own
    slabinfo says how many): reclaimable slab, not a leak."""
    for k in KERNELS:
        def case(k=k):
            out = dump(k, "dentry-flood", "elf")
            doc = analyze(out, "dentry")
            active = slabinfo(out)["dentry"][0]
            assert doc["caches"][0]["allocated"] > 100000, doc["caches"][0]
            assert abs(doc["caches"][0]["allocated"] - active) <= active // 100, (doc["caches"][0], active)
            assert doc["verdict"]["kind"] == "reclaimable", doc["verdict"]
            assert "not a leak" in doc["verdict"]["text"], doc["verdict"]
            # what would free them (lib/dcache.c): the guest's own
            # /proc/sys/fs/dentry-state (nr_dentry, nr_unused, age_limit,
            # want_pages, nr_negative), read moments before the panic, and
            # the scenario's 100,000 tmpfs files, pinned until deleted
            d = doc["dentries"]
            state = [int(x) for x in open(os.path.join(out, "out", "dentry-state")).read().split()]
            assert d["dentries"] == d["in_use"] + d["unused"] + d["negative"] == doc["caches"][0]["allocated"], d
            assert abs(d["dentries"] - state[0]) <= state[0] // 100, (d, state)
            assert abs(d["unused"] + d["negative"] - state[1]) <= max(state[1] // 100, 100), (d, state)
            assert abs(d["negative"] - state[4]) <= max(state[4] // 100, 100), (d, state)
            truth = dict(kv.split("=") for kv in open(os.path.join(out, "out", "truth")).read().split())
            tmpfs = {f["type"]: f["in_use"] for f in d["in_use_by_fs"]}.get("tmpfs", 0)
            assert int(truth["files"]) <= tmpfs < int(truth["files"]) + 1000, d
            assert d["errors"] == [], d["errors"]
            text = " ".join(memdiag(out, "slableak", "dentry").stdout.split())
            assert "not all of it reclaimable: %s in use" % "{:,}".format(d["in_use"]) in text, text
            assert "{:,} on tmpfs".format(tmpfs) in text and \
                "(a file on tmpfs pins its dentry until it is deleted)" in text, text
        yield k, case


def test_diff_ranks_the_leak_first():
    """snapshot of baseline and of leak-tracked, then diff: kmalloc-128 grew most, and the
    source that grew most is the leaking caller."""
    for k in KERNELS:
        def case(k=k):
            tmp = tempfile.mkdtemp(prefix="memdiag-diff-")
            files = []
            for s in ("baseline", "leak-tracked"):
                path = os.path.join(tmp, s + ".json")
                with open(path, "w") as f:
                    f.write(memdiag(dump(k, s, "kdump"), "snapshot").stdout)
                files.append(path)
            p = memdiag_diff("--json", *files)
            doc = json.loads(p.stdout)
            assert doc["caches"][0]["cache"] == "kmalloc-128", doc["caches"][:3]
            top = doc["sources"][0]
            assert top["cache"] == "kmalloc-128" and top.get("caller", "").startswith("leaky_alloc_one+"), \
                doc["sources"][:3]
            assert top["new_objects"] - top["old_objects"] >= LEAK_N * 99 // 100, top
            text = memdiag_diff(*files).stdout
            assert "leaky_alloc_one" in text.split("allocation sources")[1].splitlines()[2], text
        yield k, case


def memdiag_diff(*args):
    import subprocess
    build("build/memdiag")
    return subprocess.run([os.path.join(os.path.dirname(EXTENSION), "memdiag"), "diff"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)


def test_diff_refuses_what_is_not_a_snapshot():
    import subprocess
    build("build/memdiag")
    binary = os.path.join(os.path.dirname(EXTENSION), "memdiag")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write('{"caches": []}')
        f.flush()
        for other in (f.name, "/etc/hostname", "/no/such/file"):
            p = subprocess.run([binary, "diff", f.name, other], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            assert p.returncode == 1 and p.stdout == "", (other, p.returncode, p.stdout)
            assert p.stderr.startswith("memdiag: diff: ") and p.stderr.count("\n") == 1, p.stderr
            assert "not a memdiag snapshot" in p.stderr or "not a JSON file" in p.stderr, p.stderr


def test_sanitized_build_attributes_the_same():
    """The ASan+UBSan build on `slableak CACHE` and `slableak -l`: clean, same JSON."""
    for k in KERNELS:
        for s in ("leak-tracked", "leak-untracked"):
            def case(k=k, s=s):
                out = dump(k, s, "filtered")
                for args in (["kmalloc-128"], ["-l"], ["-u", "kmalloc-128"]):
                    p = memdiag(out, "--json", "slableak", *args, binary=ASAN)
                    assert not re.search(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer", p.stderr), p.stderr
                    assert json.loads(p.stdout) == json.loads(memdiag(out, "--json", "slableak", *args).stdout)
            yield "%s/%s" % (k, s), case


def leaky_orphans(doc):
    """(objects, orphans) of the signatures of the module's objects (&leaky_ops first)."""
    rows = [x for x in doc["signatures"] if x["signature"].startswith("&leaky_ops [leaky] ")]
    return sum(x["objects"] for x in rows), sum(x["orphans"] for x in rows)


def test_orphan_scan_finds_the_dropped_objects():
    """leak-untracked drops every pointer to its N objects (keep=0): `-u` finds them
    unreferenced (>= 99% of N), and the verdict says so."""
    for k in KERNELS:
        for f in FORMATS:
            def case(k=k, f=f):
                doc = analyze(dump(k, "leak-untracked", f), "kmalloc-128", "-u")
                objects, orphans = leaky_orphans(doc)
                assert objects >= LEAK_N * 99 // 100, objects
                assert orphans >= LEAK_N * 99 // 100, "only %d of %d leaked objects unreferenced" % (orphans, LEAK_N)
                assert doc["verdict"]["kind"] == "probable leak", doc["verdict"]
                assert "unreferenced" in doc["verdict"]["text"], doc["verdict"]
                scan = doc["orphan_scan"]
                assert scan["root_bytes"] > 10 << 20 and scan["objects_scanned"] > 10000, scan
            yield "%s/%s" % (k, f), case


def test_orphan_scan_follows_references():
    """leak-tracked keeps its N objects on a list headed in the module's .bss: reached
    through module memory and list_head (interior) pointers, none is an orphan."""
    for k in KERNELS:
        def case(k=k):
            doc = analyze(dump(k, "leak-tracked", "elf"), "kmalloc-128", "-u")
            top = doc["callers"][0]
            assert top["caller"].startswith("leaky_alloc_one+"), top
            assert top["objects"] >= LEAK_N and top["orphans"] == 0, top
            assert leaky_orphans(doc)[1] == 0
        yield k, case


# Unreferenced objects the scan reports where nothing leaks (README quotes
# these): at most this many in a whole lab dump, and no verdict of a leak.
MAX_FALSE_ORPHANS = 20


def test_orphan_scan_false_positives():
    for k in KERNELS:
        for s in ("baseline", "dentry-flood", "leak-tracked"):
            def case(k=k, s=s):
                doc = analyze(dump(k, s, "elf"), None, "-u", "-l", "-n", "0")
                scan = doc["orphan_scan"]
                assert scan["allocated_objects"] > 20000, scan
                assert scan["orphans"] <= MAX_FALSE_ORPHANS, \
                    "%d orphans: %s" % (scan["orphans"], [c for c in scan["caches"] if c["orphans"]])
                flagged = [v["cache"] for v in doc["verdicts"] if v["kind"] in ("probable leak", "possible leak")]
                # leak-tracked's kmalloc-128 is flagged by its caller, not by orphans
                assert flagged == (["kmalloc-128"] if s == "leak-tracked" else []), flagged
            yield "%s/%s" % (k, s), case


def test_extension_orphan_scan_agrees():
    """crash's `slableak -u kmalloc-128` prints the standalone program's verdict and counts."""
    for k in KERNELS:
        def case(k=k):
            build("build/memdiag.so")
            out = dump(k, "leak-untracked", "elf")
            ours = memdiag(out, "slableak", "-u", "kmalloc-128").stdout.splitlines()
            text, session = crash_extension(out, "slableak -u kmalloc-128")
            theirs = text.splitlines()
            for prefix in ("verdict: ", "unreferenced (-u): ", "unreferenced objects (-u): "):
                line = [l for l in ours if l.startswith(prefix)]
                assert line and line[0] in theirs, "standalone %r not in crash's output:\n%s" % (line, session[-3000:])
        yield k, case
