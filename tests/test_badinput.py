"""Bad input gets a clear message and nothing else breaks (issue 3).

Corruption is made by patching bytes in copies of a real lab dump, at
addresses crash finds (not memdiag); every case also runs under the
AddressSanitizer/UBSan build.  A corrupt cache must report itself in its own
row while every other cache keeps exactly the figures of the clean dump.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import tempfile

from lab import LAB, REPO, crash_outputs, dump, info, patched_copy
from test_slab import MEMDIAG, memdiag, slableak_json

ASAN_MEMDIAG = os.path.join(REPO, "build", "asan", "memdiag")
BINARIES = (("plain", MEMDIAG), ("asan", ASAN_MEMDIAG))
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer")


def run(outdir, binary, *args):
    p = memdiag(outdir, *args, binary=binary, check=False)
    assert p.returncode >= 0, "memdiag died of signal %d:\n%s" % (-p.returncode, p.stderr)
    assert not SANITIZER_REPORT.search(p.stderr), p.stderr
    return p


def member_offset(struct_o_text, member):
    m = re.search(r"^\s*\[(\d+)\] [^;\n]*\b%s(\[\d+\])?;" % re.escape(member), struct_o_text, re.M)
    assert m, "crash printed no offset for %s" % member
    return int(m.group(1))


def locate():
    """Addresses in 6.1 leak-tracked, from crash: kmalloc-128's kmem_cache,
    node 0, a partial slab and its first free object."""
    out = dump("6.1", "leak-tracked", "elf")
    kmem, kc_o, kcn_o = crash_outputs(out, ["kmem -s kmalloc-128", "struct kmem_cache -o",
                                            "struct kmem_cache_node -o"])
    cache = int(re.search(r"^([0-9a-f]{16})\s.*kmalloc-128", kmem, re.M).group(1), 16)
    fields, slabs = crash_outputs(out, ["struct kmem_cache.offset,node %x" % cache, "kmem -S kmalloc-128"])
    node0 = int(re.search(r"node = \{(0x[0-9a-f]+)", fields).group(1), 16)
    freeptr_offset = int(re.search(r"offset = (\d+)", fields).group(1))
    partial = re.search(r"NODE 0 PARTIAL:\n.*\n\s+([0-9a-f]{16})\s", slabs).group(1)
    freelist = crash_outputs(out, ["struct slab.freelist %s" % partial])[0]
    first_free = int(re.search(r"freelist = (0x[0-9a-f]+)", freelist).group(1), 16)
    return {"out": out, "cache": cache, "size_off": member_offset(kc_o, "size"),
            "node0": node0, "partial_off": member_offset(kcn_o, "partial"),
            "free_object": first_free, "freeptr_offset": freeptr_offset}


_where = {}


def where():
    if not _where:
        _where.update(locate())
    return _where


def check_only_kmalloc128_hurt(bad_dir, binary, expect_error):
    clean = slableak_json(where()["out"])[0]
    p = run(bad_dir, binary, "--json", "slableak")
    assert p.returncode == 0, p.stderr
    bad = {c["name"]: c for c in json.loads(p.stdout)["caches"]}
    assert set(bad) == set(clean), "caches lost: %s" % (set(clean) - set(bad))
    errors = " | ".join(bad["kmalloc-128"]["errors"])
    assert re.search(expect_error, errors), "kmalloc-128 errors: %r" % errors
    keys = ("allocated", "total", "slabs", "bytes", "errors")
    hurt = [n for n in clean if n != "kmalloc-128" and
            any(bad[n][k] != clean[n][k] for k in keys)]
    assert not hurt, "other caches changed: %s" % hurt[:10]
    text = run(bad_dir, binary, "slableak").stdout
    assert re.search(r"^  ! kmalloc-128: ", text, re.M), "no ! line for kmalloc-128 in the text output"
    return bad["kmalloc-128"]


def test_corrupt_kmem_cache_field():
    def case(binary):
        w = where()
        bad = patched_copy(w["out"], "kmem-cache-size", [(w["cache"] + w["size_off"], struct.pack("<I", 0))])
        check_only_kmalloc128_hurt(bad, binary, r"size 0, object_size 128, offset \d+ make no sense")
    for name, binary in BINARIES:
        yield name, lambda binary=binary: case(binary)


def test_corrupt_partial_list_head():
    def case(binary):
        w = where()
        bogus = 0xffff888000001000  # readable memory that is no slab
        bad = patched_copy(w["out"], "partial-list", [(w["node0"] + w["partial_off"], struct.pack("<Q", bogus))])
        row = check_only_kmalloc128_hurt(bad, binary, r"node 0 partial list: 0x[0-9a-f]+ is not a slab of this cache")
        # The count comes from the memory map, not the broken list: still exact.
        clean = slableak_json(w["out"])[0]["kmalloc-128"]
        assert (row["allocated"], row["total"]) == (clean["allocated"], clean["total"])
    for name, binary in BINARIES:
        yield name, lambda binary=binary: case(binary)


def test_corrupt_free_pointer():
    def case(binary):
        w = where()
        at = w["free_object"] + w["freeptr_offset"]
        bad = patched_copy(w["out"], "free-pointer", [(at, b"\x41" * 8)])
        check_only_kmalloc128_hurt(bad, binary, r"free pointer 0x[0-9a-f]+ is not an object of slab")
    for name, binary in BINARIES:
        yield name, lambda binary=binary: case(binary)


def test_structure_missing_from_dump():
    """node 0 of kmalloc-128 pointing outside the dumped memory: named, and the rest goes on."""
    def case(binary):
        w = where()
        beyond = 0xffff888100000000  # physical 4 GiB: not in a 512 MiB guest's dump
        kc = crash_outputs(w["out"], ["struct kmem_cache -o"])[0]
        bad = patched_copy(w["out"], "node-beyond",
                           [(w["cache"] + member_offset(kc, "node"), struct.pack("<Q", beyond))])
        check_only_kmalloc128_hurt(bad, binary, r"node 0 kmem_cache_node: reading 0xffff8881000000[0-9a-f]{2} .*not mapped")
    for name, binary in BINARIES:
        yield name, lambda binary=binary: case(binary)


def test_mismatched_vmlinux():
    def case(binary):
        d61, d612 = dump("6.1", "baseline", "elf"), dump("6.12", "baseline", "elf")
        tmp = tempfile.mkdtemp(prefix="memdiag-mismatch-")
        try:
            os.symlink(os.path.realpath(os.path.join(d612, "vmlinux")), os.path.join(tmp, "vmlinux"))
            os.symlink(os.path.realpath(os.path.join(d61, "vmcore")), os.path.join(tmp, "vmcore"))
            p = run(tmp, binary, "slableak")
            assert p.returncode == 1 and not p.stdout, (p.returncode, p.stdout[:500])
            # Both releases come from the lab (info.json), never from literals:
            # Debian moves its kernels on, and a new machine pins the newest.
            for d in (d61, d612):
                assert info(d)["kernel_release"] in p.stderr, (info(d)["kernel_release"], p.stderr)
        finally:
            shutil.rmtree(tmp)
    for name, binary in BINARIES:
        yield name, lambda binary=binary: case(binary)


def test_not_a_dump_and_truncated():
    def case(binary, kind):
        src = dump("6.1", "baseline", "kdump")
        tmp = tempfile.mkdtemp(prefix="memdiag-notdump-")
        try:
            os.symlink(os.path.realpath(os.path.join(src, "vmlinux")), os.path.join(tmp, "vmlinux"))
            with open(os.path.join(tmp, "vmcore"), "wb") as f:
                if kind == "readme":
                    f.write(open(os.path.join(REPO, "README.md"), "rb").read())
                else:
                    f.write(open(os.path.realpath(os.path.join(src, "vmcore")), "rb").read(1 << 20))
            p = run(tmp, binary, "slableak")
            assert p.returncode == 1, (p.returncode, p.stdout[:300], p.stderr)
            assert os.path.join(tmp, "vmcore") in p.stderr or "dump" in p.stderr, p.stderr
            assert len(p.stderr.splitlines()) <= 5, "a clear message, not a flood:\n" + p.stderr
        finally:
            shutil.rmtree(tmp)
    for name, binary in BINARIES:
        for kind in ("readme", "truncated"):
            yield "%s/%s" % (name, kind), lambda binary=binary, kind=kind: case(binary, kind)


def cut_copy(src, fraction):
    """A directory with src's vmlinux and the first fraction of its vmcore."""
    tmp = tempfile.mkdtemp(prefix="memdiag-cut-")
    os.symlink(os.path.realpath(os.path.join(src, "vmlinux")), os.path.join(tmp, "vmlinux"))
    whole = os.path.realpath(os.path.join(src, "vmcore"))
    with open(whole, "rb") as f, open(os.path.join(tmp, "vmcore"), "wb") as dst:
        dst.write(f.read(int(os.path.getsize(whole) * fraction)))
    return tmp


def test_dump_cut_in_its_page_data_is_read_up_to_the_cut():
    """An incomplete copy (the first 60% of an ELF dump, 98% of a kdump one):
    one warning naming the cut, then every command's output, the pages past
    the end reported as such, and what the kept part holds read as from the
    whole dump (the summary's counters).  A kdump file cut before its page
    tables (60%: memblock allocates them top-down, so they are written last)
    is refused with the cause named, not libkdumpfile's "Decompression
    failed"."""
    def case(binary, fmt, fraction):
        src = dump("6.1", "leak-tracked", fmt)
        tmp = cut_copy(src, fraction)
        try:
            p = run(tmp, binary)
            if fmt != "elf" and fraction < 0.9:
                assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stderr)
                assert re.match(r"^memdiag: .*: truncated dump: the file has \d+ bytes of the \d+ it "
                                r"needs, and the pages needed to open it \(page tables, linux_banner\) "
                                r"are past its end", p.stderr), p.stderr
                return
            assert p.returncode == 0, (p.returncode, p.stderr)
            warnings = p.stderr.splitlines()
            assert len(warnings) == 1 and re.match(
                r"^memdiag: warning: .*: truncated dump: the file has %d bytes of the \d+ it needs "
                r"\(an incomplete copy\?\); \d+ pages \(\d+ MiB\) past its end are missing, the rest is "
                r"read$" % os.path.getsize(os.path.join(tmp, "vmcore")), warnings[0]), warnings
            assert "\nVERDICT\n" in p.stdout
            if fmt == "elf":
                assert "page not in the dump: past the end of the truncated file" in p.stdout, p.stdout
            # A line is as in the whole dump, or left out with its reason
            # (MemAvailable: a zone, whose read error is in vmstat_errors).
            whole = json.loads(memdiag(src, "--json", "memdiag").stdout)
            cut = json.loads(run(tmp, binary, "--json", "memdiag").stdout)
            assert {k: v for k, v in whole["meminfo"].items() if k in cut["meminfo"]} == cut["meminfo"]
            for line in set(whole["meminfo"]) - set(cut["meminfo"]):
                assert any(e.startswith(line + ": left out: ") for e in cut["meminfo_errors"]), \
                    (line, cut["meminfo_errors"])
            assert all("past the end of the truncated file" in e for e in cut["vmstat_errors"]), cut["vmstat_errors"]
            assert len(cut["meminfo"]) >= 0.9 * len(whole["meminfo"])
            for command in ("slableak", "buddyfrag", "oomstate", "vmalloc"):
                q = run(tmp, binary, command)
                assert q.returncode == 0 and q.stdout, (command, q.returncode, q.stderr)
        finally:
            shutil.rmtree(tmp)
    for name, binary in BINARIES:
        # libkdumpfile 0.5.1 leaks 104 bytes when it cannot set up the
        # translation, which LeakSanitizer would report: the refusal is
        # tested without sanitizers.
        for fmt, fraction in (("elf", 0.6), ("kdump", 0.98)) + ((("kdump", 0.6),) if name == "plain" else ()):
            yield "%s/%s/%d%%" % (name, fmt, fraction * 100), \
                lambda binary=binary, fmt=fmt, fraction=fraction: case(binary, fmt, fraction)


def btf_renamed_copy(vmlinux, old, new, dst):
    """A copy of vmlinux whose BTF string `old` reads `new` (same length)."""
    shutil.copyfile(vmlinux, dst)
    with open(dst, "r+b") as f:
        ehdr = f.read(64)
        shoff, = struct.unpack_from("<Q", ehdr, 40)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", ehdr, 58)
        f.seek(shoff)
        shdrs = [struct.unpack("<IIQQQQIIQQ", f.read(shentsize)) for _ in range(shnum)]
        f.seek(shdrs[shstrndx][4])
        names = f.read(shdrs[shstrndx][5])
        for sh in shdrs:
            if names[sh[0]:names.index(b"\0", sh[0])] == b".BTF":
                f.seek(sh[4])
                btf = f.read(sh[5])
                pos = btf.find(b"\0" + old + b"\0")
                assert pos >= 0, "no BTF string %r" % old
                f.seek(sh[4] + pos + 1)
                f.write(new)
                return
    raise AssertionError("no .BTF section")


def test_kernel_lacks_a_member():
    """A vmlinux whose struct slab has no slab_cache (renamed in a copy's BTF):
    the error names the member the core needs."""
    src = dump("6.1", "baseline", "elf")
    tmp = tempfile.mkdtemp(prefix="memdiag-oldkernel-", dir=LAB)
    try:
        btf_renamed_copy(os.path.realpath(os.path.join(src, "vmlinux")), b"slab_cache", b"slab_cachX",
                         os.path.join(tmp, "vmlinux"))
        os.symlink(os.path.realpath(os.path.join(src, "vmcore")), os.path.join(tmp, "vmcore"))
        for name, binary in BINARIES:
            p = run(tmp, binary, "slableak")
            assert p.returncode == 1, (name, p.returncode, p.stdout[:300])
            assert "lacks struct slab.slab_cache" in p.stderr, p.stderr
    finally:
        shutil.rmtree(tmp)
