"""The lab (scripts/mkvmcore): real dumps of real Debian kernels, and their oracles.

Issue 2's "Done when": for both kernels, the baseline and leak-tracked
scenarios in each of the three formats open in crash, kmalloc-128 shows the
leak, the proc/ captures are the guest's own; an outside scenario works like a
built-in one; a second run reuses the cache; bad input gets a clear error.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

from lab import FORMATS, KERNEL_BUILDS, KERNELS, LAB_PLAN, LEAK_N, REPO, crash_kmem_s, crash_needs_no_kmem_cache, crash_stopped_on_excluded_page, dump, extension_session, peer_kmem_s, frozen, info, kernel_line, kernel_of, meminfo, mkvmcore, parse_kmem_s, proc, slabinfo

SCENARIOS = ("baseline", "leak-tracked")


def each_dump():
    for k in KERNELS:
        for s in SCENARIOS:
            for f in FORMATS:
                yield "%s/%s/%s" % (k, s, f), k, s, f


def test_crash_sees_the_leak():
    """crash `kmem -s kmalloc-128`: >= N allocated in leak-tracked, far fewer in baseline.

    On 6.12 crash 8.0.2 (run with --no_modules) miscounts the allocated
    objects of a cache with slub_debug=U: it printed ALLOCATED -9584 with
    TOTAL 20368 for leak-tracked's kmalloc-128, whose guest slabinfo said
    20316 active.  There its TOTAL column is the oracle for the leak.

    On some filtered 6.12 dumps crash cannot start at all (see
    lab.crash_stopped_on_excluded_page()).  On 7.x crash 8.0.2 cannot walk
    the slab caches at all: there the newest peer counts (test_slab.slab_oracle()).
    The ELF dumps are read by crash 9.0.2 (its `kmem -s`, taken once per boot
    for test_slab: no crash start-up of its own here).
    """
    for name, k, s, f in each_dump():
        def case(k=k, s=s, f=f):
            out = dump(k, s, f)
            crash_802 = False
            if crash_needs_no_kmem_cache(out):
                # crash 8.0.2 cannot walk 7.x's slabs: the newest peer's count of the boot
                from test_slab import slab_oracle
                rows = {name: counts for name, counts in slab_oracle(k, s)[1].values()}
            elif f == "elf":
                rows = {name: counts for name, counts in peer_kmem_s(out).values()}
            else:   # the session the extension's tests run on this dump anyway
                outputs, session = extension_session(out)
                if crash_stopped_on_excluded_page(out, session):
                    return
                rows, crash_802 = parse_kmem_s(outputs["kmem -s kmalloc-128"]), True
            assert "kmalloc-128" in rows, "crash printed no kmalloc-128 row"
            allocated, total, _ = rows["kmalloc-128"]
            if s == "leak-tracked" and kernel_line(out) == (6, 12) and crash_802:
                assert total >= LEAK_N, "only %d objects in all, expected >= %d" % (total, LEAK_N)
            elif s == "leak-tracked":
                assert allocated >= LEAK_N, "only %d allocated, expected >= %d" % (allocated, LEAK_N)
            else:
                assert allocated < LEAK_N // 10, "baseline has %d allocated" % allocated
        yield name, case


def test_proc_captures_are_the_guests():
    """proc/ holds the guest's own views of the dumped moment, not the host's."""
    for name, k, s, f in each_dump():
        def case(k=k, s=s, f=f):
            out = dump(k, s, f)
            meta = info(out)
            assert meta["kernel_release"].startswith(kernel_of(k) + "."), meta["kernel_release"]
            assert meta["format"] == f and meta["scenario"] == s
            for view in ("meminfo", "slabinfo", "buddyinfo", "pagetypeinfo", "zoneinfo",
                         "vmallocinfo", "vmstat", "dmesg"):
                assert os.path.getsize(os.path.join(out, "proc", view)) > 0, "empty proc/" + view
            assert "Linux version " + meta["kernel_release"] in proc(out, "dmesg")
            assert "Kernel command line: " + meta["cmdline"] in proc(out, "dmesg")
            total_kb = meminfo(out)["MemTotal"]
            mem_kb = meta["mem_mib"] * 1024
            assert 0.8 * mem_kb < total_kb <= mem_kb, "MemTotal %d kB in a %d kB guest" % (total_kb, mem_kb)
            assert re.search(r"^Node 0, zone\s+DMA32(\s+\d+){11}\s*$", proc(out, "buddyinfo"), re.M)
            active = slabinfo(out)["kmalloc-128"][0]
            if s == "leak-tracked":
                assert active >= LEAK_N, "guest's slabinfo: kmalloc-128 active %d" % active
                calls = open(os.path.join(out, "out", "alloc_calls")).read()
                m = re.search(r"^\s*(\d+) leaky_alloc_one\+\S+ \[leaky\]", calls, re.M)
                assert m and int(m.group(1)) == LEAK_N, "alloc_calls:\n" + calls
            else:
                assert active < LEAK_N // 10
        yield name, case


TYPE_ROW = re.compile(r"^Node\s+(\d+), zone\s+(\S+), type\s+(\S+)((?:\s+\d+)+)\s*$", re.M)
ZONE_ROW = re.compile(r"^Node (\d+), zone\s+(\S+)((?:\s+\d+)+)\s*$", re.M)


def test_frozen_views_are_the_kernels():
    """frozen/ (mdfreeze, printed with every CPU stopped at the dumped instant)
    has the kernel's own layout: the zones of /proc/buddyinfo and the
    migratetypes of /proc/pagetypeinfo, in their order, and per order the
    blocks of all types add up to the zone's nr_free, as they must when
    nothing moves."""
    for k in KERNELS:
        for s in SCENARIOS + ("frag",):
            def case(k=k, s=s):
                out = dump(k, s, "elf")
                zones = [(m.group(1), m.group(2)) for m in ZONE_ROW.finditer(frozen(out, "buddyinfo"))]
                assert zones == [(m.group(1), m.group(2)) for m in ZONE_ROW.finditer(proc(out, "buddyinfo"))], zones
                types = [m.group(1, 2, 3) for m in TYPE_ROW.finditer(frozen(out, "pagetypeinfo"))]
                assert types == [m.group(1, 2, 3) for m in TYPE_ROW.finditer(proc(out, "pagetypeinfo"))], types
                per_type = {}
                for m in TYPE_ROW.finditer(frozen(out, "pagetypeinfo")):
                    counts = [int(x) for x in m.group(4).split()]
                    acc = per_type.setdefault(m.group(1, 2), [0] * len(counts))
                    per_type[m.group(1, 2)] = [a + c for a, c in zip(acc, counts)]
                for m in ZONE_ROW.finditer(frozen(out, "buddyinfo")):
                    assert per_type[m.group(1, 2)] == [int(x) for x in m.group(3).split()], m.group(0)
            yield "%s/%s" % (k, s), case


def test_dump_formats():
    """elf is QEMU's ELF; kdump and filtered are kdump-compressed, filtered much smaller."""
    for k in KERNELS:
        def case(k=k):
            head = {f: open(os.path.join(dump(k, "baseline", f), "vmcore"), "rb").read(8) for f in FORMATS}
            assert head["elf"][:4] == b"\x7fELF"
            assert head["kdump"] == b"KDUMP   " and head["filtered"] == b"KDUMP   ", head
            size = {f: os.path.getsize(os.path.join(dump(k, "baseline", f), "vmcore")) for f in FORMATS}
            assert size["filtered"] < size["kdump"] < size["elf"] // 4, size
        yield k, case


def test_la57_lines_have_five_level_page_tables():
    """A KERNEL-la57 line's guest ran with 5-level page tables: its own
    /proc/meminfo gives 12800 TiB of vmalloc space (x86-64's VMALLOC_SIZE_TB_L5),
    its 4-level boot 32 TiB; memdiag reads the same from the dump."""
    for k in KERNELS:
        if not k.endswith("-la57"):
            continue
        for s in LAB_PLAN[k]:
            def case(k=k, s=s):
                assert meminfo(dump(kernel_of(k), "baseline", "elf"))["VmallocTotal"] == (32 << 30) - 1
                for f in FORMATS:
                    out = dump(k, s, f)
                    assert info(out)["la57"] is True
                    assert meminfo(out)["VmallocTotal"] == (12800 << 30) - 1, meminfo(out)["VmallocTotal"]
                    doc = json.loads(subprocess.run([os.path.join(REPO, "build", "memdiag"), "--json",
                                                     os.path.join(out, "vmlinux"), os.path.join(out, "vmcore"),
                                                     "memdiag"], stdout=subprocess.PIPE, check=True).stdout)
                    assert doc["meminfo_kb"]["VmallocTotal"] == (12800 << 30) - 1, doc["meminfo_kb"]["VmallocTotal"]
            yield "%s/%s" % (k, s), case


def write_scenario(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return root


# A scenario outside the repo that exercises every part of the contract: a
# module, a static user program, extra kernel arguments, memory size, /out.
OUTSIDE_SCENARIO = {
    "scenario.sh": "insmod /modules/marker.ko\n"
                   "hello > /out/hello.txt\n"
                   "cat /proc/cmdline > /out/cmdline\n"
                   "cat /proc/modules > /out/modules\n"
                   "mkdir -p /out/sub && echo nested > /out/sub/file\n",
    "marker.c": '#include <linux/module.h>\n'
                'static int __init marker_init(void) { pr_info("marker loaded\\n"); return 0; }\n'
                'static void __exit marker_exit(void) { }\n'
                'module_init(marker_init);\nmodule_exit(marker_exit);\nMODULE_LICENSE("GPL");\n',
    "user/hello.c": '#include <stdio.h>\nint main(void) { puts("hello from the guest"); return 0; }\n',
    "cmdline": "memdiag_lab_probe=1\n",
    "mem": "384\n",
}


def test_outside_scenario_works_like_builtin():
    tmp = tempfile.mkdtemp(prefix="memdiag-scenario-")
    try:
        scen = write_scenario(os.path.join(tmp, "outside"), OUTSIDE_SCENARIO)
        out = os.path.join(tmp, "out")
        mkvmcore(scen, out)
        assert open(os.path.join(out, "out", "hello.txt")).read() == "hello from the guest\n"
        assert "memdiag_lab_probe=1" in open(os.path.join(out, "out", "cmdline")).read()
        assert re.search(r"^marker ", open(os.path.join(out, "out", "modules")).read(), re.M)
        assert open(os.path.join(out, "out", "sub", "file")).read() == "nested\n"
        assert "marker loaded" in proc(out, "dmesg")
        assert info(out)["mem_mib"] == 384
        assert meminfo(out)["MemTotal"] <= 384 * 1024
        assert crash_kmem_s(out, "kmalloc-128"), "crash cannot read the outside scenario's dump"
    finally:
        shutil.rmtree(tmp)


def test_second_run_reuses_the_cache():
    first = dump("6.1", "baseline", "elf")
    tmp = tempfile.mkdtemp(prefix="memdiag-rerun-")
    try:
        p = mkvmcore("baseline", tmp)
        assert "booting" not in p.stderr and "preparing" not in p.stderr, p.stderr
        assert info(tmp)["created"] == info(first)["created"], "the dump was made again"
        assert os.path.realpath(os.path.join(tmp, "vmcore")) == os.path.realpath(os.path.join(first, "vmcore"))
    finally:
        shutil.rmtree(tmp)


def expect_error(args, *needles, env=None):
    p = mkvmcore(*args, env=env, check=False)
    assert p.returncode == 1, "exit %d, stderr:\n%s" % (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    for n in needles:
        assert n in p.stderr, "%r not in:\n%s" % (n, p.stderr)
    return p.stderr


def test_errors_are_clear():
    tmp = tempfile.mkdtemp(prefix="memdiag-bad-")
    out = os.path.join(tmp, "out")
    try:
        yield "unknown scenario", lambda: expect_error(["no-such-scenario", out], "no scenario 'no-such-scenario'", "baseline")
        os.makedirs(os.path.join(tmp, "empty"))
        yield "no scenario.sh", lambda: expect_error([os.path.join(tmp, "empty"), out], "has no scenario.sh")
        bad_mod = write_scenario(os.path.join(tmp, "badmod"), {
            "scenario.sh": "true\n", "broken.c": "#include <linux/module.h>\nint x = undeclared_thing;\n"})
        yield "module build", lambda: expect_error([bad_mod, out], "kernel module build failed", "undeclared_thing")
        bad_user = write_scenario(os.path.join(tmp, "baduser"), {
            "scenario.sh": "true\n", "user/prog.c": "int main(void) { return nope; }\n"})
        yield "user build", lambda: expect_error([bad_user, out], "user program prog.c failed to build", "nope")
        bad_mem = write_scenario(os.path.join(tmp, "badmem"), {"scenario.sh": "true\n", "mem": "lots\n"})
        yield "mem file", lambda: expect_error([bad_mem, out], "mem must be a number of MiB")
        hang = write_scenario(os.path.join(tmp, "hang"), {
            "scenario.sh": "echo about-to-hang\nwhile :; do sleep 5; done\n"})
        yield "time-out", lambda: expect_error(["--timeout", "20", hang, out],
                                               "did not finish scenario.sh within 20 s", "about-to-hang")
        # A guest whose kernel oopses is booted again, each time named; after
        # the last boot the error names the oops.  (Once, on a clean machine,
        # 7.2 oopsed by itself under TCG and the dump was kept as if good.)
        oops = write_scenario(os.path.join(tmp, "oops"), {
            "scenario.sh": "insmod /modules/oopser.ko\n",
            "oopser.c": '#include <linux/module.h>\n'
                        'static int __init oopser_init(void) { *(volatile int *)NULL = 1; return 0; }\n'
                        'module_init(oopser_init);\nMODULE_LICENSE("GPL");\n',
            "mem": "256\n"})
        yield "guest oops", lambda: expect_error(
            ["--boots", "2", oops, out],
            "boot 1 of 2: the guest's kernel oopsed on its own (BUG: kernel NULL pointer dereference",
            "2 boots of oops gave no usable dump; the last: the guest's kernel oopsed")
        yield "no disk space", lambda: no_disk_space(tmp)
        for k in KERNEL_BUILDS:
            if k + "-la57" not in LAB_PLAN:   # a kernel built for 4-level page tables only
                yield "la57 on " + k, lambda k=k: expect_error(["--kernel", k, "--la57", "baseline", out],
                                                               "4-level page tables only")
    finally:
        # Runs after the last case: tests/run calls each case before resuming the generator.
        shutil.rmtree(tmp)


def no_disk_space(tmp):
    """A cache on a 32 MiB tmpfs cannot hold a kernel: the error says so."""
    small = os.path.join(tmp, "small-cache")
    os.makedirs(small)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", small], check=True)
    try:
        os.makedirs(os.path.join(small, "kernels"))
        # Pin the release so no apt look-up is needed to reach the disk check.
        pin = os.path.join(os.path.expanduser(os.environ.get("MEMDIAG_CACHE", "~/.cache/memdiag")),
                           "kernels", "release-6.1-cloud")
        if os.path.exists(pin):
            shutil.copy(pin, os.path.join(small, "kernels"))
        expect_error(["baseline", os.path.join(tmp, "out")], "not enough disk space", env={"MEMDIAG_CACHE": small})
    finally:
        subprocess.run(["umount", small])
