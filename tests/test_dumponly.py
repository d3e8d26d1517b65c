"""`memdiag VMCORE`: types and symbols from the dump alone (issue 14).

With no vmlinux, the types come from the kernel's own BTF in the dump and
the symbols from its own kallsyms (cli/kallsyms.c; on 5.10, whose
VMCOREINFO names no tables, found by their shape).  The oracle is the same
program given the vmlinux: every command must print the same JSON, byte
for byte, on every lab dump of every kernel and format.
"""

import concurrent.futures
import difflib
import os
import re
import subprocess

from lab import (DIRECT_MAP, FORMATS, KERNEL_BUILDS, KERNELS, LAB_PLAN, REPO, WHATIS_LINE, dump, excluded_copy, info,
                 kaslr_dump, patched_copy)
from test_badinput import SANITIZER_REPORT
from test_target import ask

MEMDIAG = os.path.join(REPO, "build", "memdiag")
# Every command line and option set the other tests run.
COMMANDS = ("memdiag", "memdiag -s", "memdiag -n 3", "slableak", "slableak -l", "slableak -u",
            "slableak -n 2", "slableak kmalloc-128", "slableak -u kmalloc-128", "slableak dentry",
            "buddyfrag", "oomstate", "vmalloc", "snapshot", WHATIS_LINE)


def run(args, binary=MEMDIAG):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode >= 0, "memdiag died of signal %d:\n%s" % (-p.returncode, p.stderr[-3000:])
    assert not SANITIZER_REPORT.search(p.stderr), p.stderr[-3000:]
    return p


def same_json(out, commands):
    """Each command's --json with and without the vmlinux: identical."""
    vmlinux, vmcore = os.path.join(out, "vmlinux"), os.path.join(out, "vmcore")

    def both(command):
        return (command, run(["--json", vmlinux, vmcore] + command.split()),
                run(["--json", vmcore] + command.split()))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for command, a, b in pool.map(both, commands):
            assert (b.returncode, b.stdout) == (a.returncode, a.stdout), \
                "%s: with the vmlinux (rc %d) and without (rc %d) differ:\n%s\n%s\n%s" % (
                    command, a.returncode, b.returncode, a.stderr[-1500:], b.stderr[-1500:],
                    "".join(list(difflib.unified_diff(a.stdout.splitlines(True), b.stdout.splitlines(True),
                                                      "with the vmlinux", "without"))[:80]))
            assert a.returncode == 0 or a.stderr == b.stderr, (a.stderr, b.stderr)


def test_dump_alone_is_the_same_as_with_the_vmlinux():
    """Every command on every lab dump, in every format: the same JSON from
    the dump alone.  On a filtered dump that includes what memdiag says of
    the pages makedumpfile left out: the same reads fail either way."""
    for line in KERNELS:
        for scenario in LAB_PLAN[line]:
            for f in FORMATS:
                def case(line=line, scenario=scenario, f=f):
                    same_json(dump(line, scenario, f), COMMANDS)
                yield "%s/%s/%s" % (line, scenario, f), case


def test_kaslr_dump_alone():
    """KASLR on, every kernel: kallsyms is already at run-time addresses (the
    kernel relocated it), the vmlinux's symbols move by KERNELOFFSET; the
    same JSON either way."""
    for kernel in KERNEL_BUILDS:
        def case(kernel=kernel):
            out = kaslr_dump(kernel)
            assert int(ask(out, ["vmcoreinfo KERNELOFFSET"])[0], 16) != 0, "not randomized"
            same_json(out, COMMANDS)
        yield kernel, case


START_KERNEL_MAP = 0xffffffff80000000  # x86-64 __START_KERNEL_map


def image_pages(out):
    """{what: direct-map address of one page}: pages of the kernel's BTF
    (its header, its types, its strings) and of its kallsyms names and
    offsets, found with the vmlinux's symbols (the oracle, not the code
    under test)."""
    a = ask(out, ["vmcoreinfo NUMBER(phys_base)", "sym __start_BTF", "sym __stop_BTF",
                  "sym kallsyms_names", "sym kallsyms_offsets", "sym kallsyms_num_syms"])
    phys_base, start, stop, names, offsets, num = (int(x, 16) if x.startswith("0x") else int(x) for x in a)
    page = lambda v: DIRECT_MAP + ((v - START_KERNEL_MAP + phys_base) & ~0xfff)
    return {"BTF header": page(start), "BTF types": page(start + (stop - start) // 3),
            "BTF strings": page(stop - 0x2000), "kallsyms names": page(names + 0x20000),
            "kallsyms offsets": page(offsets + 0x10000)}


def check_named(out, what, words):
    """memdiag without the vmlinux: exit 1, a message with all of words;
    with the vmlinux, the damaged pages are never read and all is well."""
    p = run([os.path.join(out, "vmcore"), "buddyfrag"])
    assert p.returncode == 1 and not p.stdout, (what, p.returncode, p.stdout[:300])
    msg = p.stderr
    assert len(msg.splitlines()) == 1 and "give the vmlinux" in msg, (what, msg)
    for w in words:
        assert w in msg, (what, w, msg)
    p = run([os.path.join(out, "vmlinux"), os.path.join(out, "vmcore"), "buddyfrag"])
    assert p.returncode == 0, (what, p.stderr)


ZEROED_WORDS = {"BTF header": ("BTF", "magic 0x0000"), "BTF types": ("BTF",),
                "BTF strings": ("BTF", "NULs in a row"), "kallsyms names": ("kallsyms",),
                "kallsyms offsets": ("kallsyms", "damaged")}


def test_zeroed_btf_or_kallsyms_is_named():
    """A page of the kernel's BTF or kallsyms zeroed (an ELF copy patched):
    the message names which, and says to give the vmlinux."""
    for kernel in KERNEL_BUILDS:
        for what in ZEROED_WORDS:
            def case(kernel=kernel, what=what):
                src = dump(kernel, "baseline", "elf")
                bad = patched_copy(src, "zeroed", [(image_pages(src)[what], bytes(4096))])
                check_named(bad, what, ZEROED_WORDS[what])
            yield "%s/%s" % (kernel, what), case


def test_excluded_btf_or_kallsyms_is_named():
    """The same pages left out of a kdump-compressed copy, as makedumpfile
    leaves out a page it filters: named as not in the dump."""
    for kernel in KERNEL_BUILDS:
        for what in ("BTF types", "kallsyms names"):
            def case(kernel=kernel, what=what):
                src = dump(kernel, "baseline", "kdump")
                bad = excluded_copy(src, "excluded", [image_pages(src)[what]])
                check_named(bad, what, (what.split()[0], "excluded by makedumpfile"))
            yield "%s/%s" % (kernel, what), case


# scripts/mksysmap: `nm -n`, without these lines (the kernel's own filter,
# abridged to what x86-64 has).
MKSYSMAP_SKIP = re.compile(r" [aNUw] |__crc_| \$[adt]| \.L| L0")


def system_map(out):
    """The System.map of out's kernel, made from its vmlinux as the kernel's
    build makes it (Debian ships only a stub; other distributions the real
    file): build/lab/KERNEL/System.map."""
    path = os.path.join(os.path.dirname(os.path.dirname(out)), "System.map")
    vmlinux = os.path.realpath(os.path.join(out, "vmlinux"))
    if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(vmlinux):
        nm = subprocess.run(["nm", "-n", vmlinux], stdout=subprocess.PIPE, text=True, check=True).stdout
        with open(path + ".tmp", "w") as f:
            f.writelines(line + "\n" for line in nm.splitlines() if not MKSYSMAP_SKIP.search(line))
        os.rename(path + ".tmp", path)
    return path


def test_system_map_is_the_same_as_the_vmlinux():
    """--system-map: symbols from the map (moved by KERNELOFFSET), types
    from the dump's BTF; the same JSON as with the vmlinux, KASLR or not."""
    for kernel in KERNEL_BUILDS:
        for scenario, fmt in (("leak-tracked", "kdump"), ("kaslr", "elf")):
            def case(kernel=kernel, scenario=scenario, fmt=fmt):
                out = kaslr_dump(kernel) if scenario == "kaslr" else dump(kernel, scenario, fmt)
                vmlinux, vmcore = os.path.join(out, "vmlinux"), os.path.join(out, "vmcore")
                smap = system_map(dump(kernel, "baseline", "elf"))
                for command in COMMANDS:
                    a = run(["--json", vmlinux, vmcore] + command.split())
                    b = run(["--json", "--system-map", smap, vmcore] + command.split())
                    assert (b.returncode, b.stdout) == (a.returncode, a.stdout), (command, a.stderr, b.stderr)
            yield "%s/%s" % (kernel, scenario), case


def test_wrong_system_map_is_refused():
    """Another kernel's map, and Debian's stub: refused, saying which."""
    k1, k2 = KERNEL_BUILDS[0], KERNEL_BUILDS[-1]
    d1, d2 = dump(k1, "baseline", "elf"), dump(k2, "baseline", "elf")
    p = run(["--system-map", system_map(d1), os.path.join(d2, "vmcore")])
    assert p.returncode == 1 and not p.stdout, p.stdout[:300]
    assert "is not %s's System.map" % os.path.join(d2, "vmcore") in p.stderr, p.stderr
    assert info(d2)["kernel_release"] in p.stderr, p.stderr
    # what Debian's linux-image package ships as /boot/System.map-R (the lab extracts it)
    release = info(d1)["kernel_release"]
    stub = os.path.join(os.path.dirname(os.path.realpath(os.path.join(d1, "vmlinux"))), "root", "boot",
                        "System.map-" + release)
    p = run(["--system-map", stub, os.path.join(d1, "vmcore")])
    assert p.returncode == 1 and "not a System.map but a stub" in p.stderr and "-dbg" in p.stderr, p.stderr
