"""Bad input gets a clear message and nothing else breaks (issue 3).

Corruption is made by patching bytes in copies of a real lab dump, at
addresses crash finds (not memdiag); every case also runs under the
AddressSanitizer/UBSan build.  A corrupt cache must report itself in its own
row while every other cache keeps exactly the figures of the clean dump.
"""

import functools
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile

from lab import DIRECT_MAP, LAB, LEAK_N, REPO, crash_outputs, dump, excluded_copy, info, patched_copy
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
    return {"out": out, "cache": cache, "size_off": member_offset(kc_o, "size"), "oo_off": member_offset(kc_o, "oo"),
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
    keys = ("allocated", "total", "slabs", "memory_bytes", "errors")
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


def test_corrupt_size_and_order():
    """Found by the fault sweeps' random reads: a kmem_cache whose size and
    oo are both garbage was refused for its size before its order was
    checked, and its slab size then shifted a page by 30,189 (UBSan).  The
    order is checked first: named, and the JSON row still made."""
    def case(binary):
        w = where()
        bad = patched_copy(w["out"], "kmem-cache-size-oo",
                           [(w["cache"] + w["size_off"], struct.pack("<I", 0)),
                            (w["cache"] + w["oo_off"], struct.pack("<I", 0x75ed0010))])
        check_only_kmalloc128_hurt(bad, binary, r"slab orders 30189 and \d+ make no sense")
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


def test_version_and_usage_errors():
    """--version prints the Makefile's VERSION; a command line that is wrong
    (no such command option, a bad value) exits 2, a dump that cannot be
    read 1."""
    version = re.search(r"^VERSION := (\S+)$", open(os.path.join(REPO, "Makefile")).read(), re.M).group(1)
    p = subprocess.run([MEMDIAG, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert (p.returncode, p.stdout, p.stderr) == (0, "memdiag %s\n" % version, ""), p
    out = dump("6.1", "baseline", "elf")
    for args in (["slableak", "-n", "x"], ["whatis"], ["whatis", "not_a_symbol_anywhere"], ["oomstate", "-x"]):
        p = memdiag(out, *args, check=False)
        assert p.returncode == 2 and p.stdout == "" and p.stderr.startswith("memdiag: "), (args, p)
    p = subprocess.run([MEMDIAG, os.path.join(REPO, "README.md")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert p.returncode == 1, p


def test_help_pages_and_option_syntax():
    """One parser (lib/options.c) for every command: `memdiag --help CMD`,
    `memdiag CMD --help` (no dump needed) and `CMD -h` after the dump give the
    same page, within 80 columns; getopt's forms (-n3, -ln3) mean what the
    spelled-out ones do; a command before the dump is a usage error."""
    listing = subprocess.run([MEMDIAG, "--help"], stdout=subprocess.PIPE, text=True, check=True).stdout
    names = re.findall(r"^  (\w+) +\1 ", listing, re.M)
    assert {"memdiag", "slableak", "buddyfrag", "oomstate", "vmalloc", "whatis"} <= set(names), listing
    out = dump("6.1", "baseline", "elf")
    for name in names:
        page = subprocess.run([MEMDIAG, "--help", name], stdout=subprocess.PIPE, text=True, check=True).stdout
        assert page.startswith("NAME\n  %s - " % name) and "\nSYNOPSIS\n  %s " % name in page, page
        assert "--json" in page and "-h, --help" in page, page
        wide = [l for l in page.splitlines() if len(l) > 80]
        assert not wide, (name, wide)
        p = subprocess.run([MEMDIAG, name, "--help"], stdout=subprocess.PIPE, text=True)
        assert (p.returncode, p.stdout) == (0, page), (name, p)
        p = memdiag(out, name, "-h")
        assert p.stdout == page, (name, p.stdout)
    assert memdiag(out, "slableak", "-ln3").stdout == memdiag(out, "slableak", "-l", "-n", "3").stdout
    assert memdiag(out, "vmalloc", "-n2").stdout == memdiag(out, "vmalloc", "-n", "2").stdout
    p = memdiag(out, "slableak", "-n", check=False)
    assert p.returncode == 2 and "slableak: -n needs a value" in p.stderr and \
        "(usage: slableak [-n N] [-l] [-u] [--wide] [--json] [CACHE])" in p.stderr, p
    p = subprocess.run([MEMDIAG, "slableak", os.path.join(out, "vmlinux"), os.path.join(out, "vmcore")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 2 and "the dump comes before the command" in p.stderr, p


def test_what_is_not_a_dump_is_said_in_plain_words():
    """A file memdiag cannot open as a dump is said to be what it is (a
    vmlinux given twice, a directory, an empty file, a text file), not in
    libkdumpfile's words ("Cannot set file.set.0.fd: ..."): exit 1, one line."""
    out = dump("6.1", "baseline", "elf")
    vmlinux = os.path.realpath(os.path.join(out, "vmlinux"))
    tmp = tempfile.mkdtemp(prefix="memdiag-words-")
    try:
        empty = os.path.join(tmp, "empty")
        open(empty, "w").close()
        for args, said in (([vmlinux, vmlinux], " is an ELF executable, not a core dump (a vmlinux goes before "
                                                "the dump: memdiag VMLINUX VMCORE)"),
                           ([tmp], " is a directory, not a dump"), ([empty], " is empty, not a dump"),
                           ([os.path.join(REPO, "README.md")], " is not a crash dump: neither an ELF core file")):
            p = subprocess.run([MEMDIAG] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert p.returncode == 1 and said in p.stderr and len(p.stderr.splitlines()) == 1, (args, p)
            assert "file.set" not in p.stderr and "libkdumpfile" not in p.stderr, p.stderr
    finally:
        shutil.rmtree(tmp)
    # names as users type them
    assert memdiag(out, "slableak", "KMALLOC-128").stdout == memdiag(out, "slableak", "kmalloc-128").stdout


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
                                r"needs, and the pages needed to open it \(page tables[^)]*\) "
                                r"are past its end", p.stderr), p.stderr
                return
            assert p.returncode == 0, (p.returncode, p.stderr)
            warnings = p.stderr.splitlines()
            assert len(warnings) == 1 and re.match(
                r"^memdiag: warning: .*: truncated dump: the file has %d bytes of the \d+ it needs "
                r"\(an incomplete copy\?\); \d+ pages \(\d+ MiB\) past its end are missing, the rest is "
                r"read$" % os.path.getsize(os.path.join(tmp, "vmcore")), warnings[0]), warnings
            assert re.search(r"^VERDICT$", p.stdout, re.M)
            if fmt == "elf":
                assert "page not in the dump: past the end of the truncated file" in p.stdout, p.stdout
            # A line is as in the whole dump, or left out with its reason
            # (MemAvailable: a zone, whose read error is in vmstat_errors).
            whole = json.loads(memdiag(src, "--json", "memdiag").stdout)
            cut = json.loads(run(tmp, binary, "--json", "memdiag").stdout)
            assert {k: v for k, v in whole["meminfo_kb"].items() if k in cut["meminfo_kb"]} == cut["meminfo_kb"]
            for line in set(whole["meminfo_kb"]) - set(cut["meminfo_kb"]):
                assert any(e.startswith(line + ": left out: ") for e in cut["meminfo_errors"]), \
                    (line, cut["meminfo_errors"])
            assert all("past the end of the truncated file" in e for e in cut["vmstat_errors"]), cut["vmstat_errors"]
            assert len(cut["meminfo_kb"]) >= 0.9 * len(whole["meminfo_kb"])
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


# ----------------------------------------------------------------------------
# The slab_caches list (issue 13, 1): each link is checked against its back
# pointer, a break is named, and the caches past it are reached from the
# list's other end, on every kernel line.

@functools.lru_cache(None)
def kmem_cache_layout(kernel):
    """({member: offset} of struct kmem_cache, the size of a kmem_cache object),
    from pahole's DWARF.  The object ends after node[] for the guest's one
    node: mm/slub.c kmem_cache_init() sizes the kmem_cache cache with
    offsetof(struct kmem_cache, node) + nr_node_ids pointers, not
    sizeof(struct kmem_cache) (node[MAX_NUMNODES])."""
    from test_target import pahole_text
    vmlinux = os.path.join(dump(kernel, "leak-tracked", "elf"), "vmlinux")
    out = subprocess.run(["pahole", "-F", "dwarf", "-C", "kmem_cache", vmlinux], stdout=subprocess.PIPE,
                         text=True, check=True, timeout=300).stdout
    kc = pahole_text(out)[0]["kmem_cache"]
    node = kc["members"].get("node") or kc["members"]["per_node"]   # per_node[]: 7.1
    return {m: v[0][0] // 8 for m, v in kc["members"].items()}, node[0][0] // 8 + 8


# What each corruption writes, given kmalloc-128's kmem_cache address, the
# list offset, the struct size and the previous cache's list_head.
LIST_CORRUPTIONS = {
    "next points at itself": lambda kc, off, size, prev: [(kc + off, struct.pack("<Q", kc + off))],
    "next is garbage": lambda kc, off, size, prev: [(kc + off, struct.pack("<Q", 0xdead000000000100))],
    "next points back at the previous cache": lambda kc, off, size, prev: [(kc + off, struct.pack("<Q", prev))],
    "kmem_cache zeroed": lambda kc, off, size, prev: [(kc, bytes(size))],
}


def test_broken_cache_list_loses_no_cache():
    """kmalloc-128's kmem_cache on slab_caches broken four ways, in a copy of
    each kernel's leak-tracked dump: every cache is still listed once, every
    other cache keeps the clean dump's figures, the leak is still counted
    (but where the kmem_cache itself is gone), and a `!` line names
    kmalloc-128's kmem_cache as where the list breaks.  The addresses come
    from the newest peer (crash 9.0.2's kmem -s, drgn's walk on 7.x)."""
    from test_slab import slab_oracle
    from lab import KERNEL_BUILDS
    for k in KERNEL_BUILDS:
        for what, patch in LIST_CORRUPTIONS.items():
            def case(k=k, what=what, patch=patch):
                out = dump(k, "leak-tracked", "elf")
                clean_rows, clean_doc = slableak_json(out)
                caches = slab_oracle(k, "leak-tracked")[1]
                kc = next(a for a, (n, _) in caches.items() if n == "kmalloc-128")
                members, size = kmem_cache_layout(k)
                off = members["list"]
                # the previous cache on the list is the one memdiag's clean walk lists before it
                order = [int(c["address"], 16) for c in clean_doc["caches"]]
                assert sorted(order) == sorted(caches), "the clean walk and the peer list other caches"
                bad = patched_copy(out, "cache-list", patch(kc, off, size, list_prev(out, kc + off)))
                for name, binary in BINARIES:
                    p = run(bad, binary, "--json", "slableak")
                    assert p.returncode == 0, p.stderr[-2000:]
                    doc = json.loads(p.stdout)
                    got = [int(c["address"], 16) for c in doc["caches"]]
                    assert len(got) == len(set(got)), "a cache listed twice"
                    assert set(got) == set(order), "caches lost: %s" % [hex(a) for a in set(order) - set(got)]
                    by_addr = {int(c["address"], 16): c for c in doc["caches"]}
                    clean_by_addr = {int(c["address"], 16): c for c in clean_doc["caches"]}
                    for a, c in clean_by_addr.items():
                        if a != kc:
                            assert (by_addr[a]["name"], by_addr[a]["allocated"], by_addr[a]["total"]) == \
                                (c["name"], c["allocated"], c["total"]), c["name"]
                    errors = " | ".join(doc["errors"])
                    if what == "kmem_cache zeroed":
                        assert by_addr[kc]["errors"], "the zeroed kmem_cache has no error"
                        assert "slab_caches, walked from its other end up to kmem_cache 0x%x" % kc in errors, errors
                    else:
                        assert by_addr[kc]["allocated"] == clean_by_addr[kc]["allocated"] >= LEAK_N
                        assert "slab_caches: the list breaks at kmem_cache 0x%x" % kc in errors, errors
                text = run(bad, MEMDIAG, "slableak").stdout
                assert re.search(r"^\s*! slab_caches", text, re.M), text[-2000:]
            yield "%s/%s" % (k, what), case


def list_prev(outdir, node):
    """The prev link of the list_head at node, read raw from the dump."""
    from test_target import ask
    return struct.unpack("<Q", bytes.fromhex(ask(outdir, ["read %x 8" % (node + 8)])[0]))[0]


def test_a_kmem_cache_is_read_no_further_than_the_kernel_allocated():
    """The kernel allocates a struct kmem_cache only up to its nr_node_ids'th
    node pointer (mm/slub.c kmem_cache_init()), not node[MAX_NUMNODES]: 224
    of 8,408 bytes on 6.12.  memdiag read all 8,408, so a kmem_cache in the
    last slab page of RAM read into unmapped memory: a fresh 6.12 boot had 7
    caches "unreadable" and a summary warning that slab figures may be low.
    Here the page after kmalloc-128's kmem_cache is left out of a
    kdump-compressed copy: the cache must read as in the clean dump, with
    no error.  Its address comes from the newest peer."""
    from test_slab import slab_oracle
    from lab import KERNEL_BUILDS
    for k in KERNEL_BUILDS:
        def case(k=k):
            caches = slab_oracle(k, "leak-tracked")[1]
            kc = next(a for a, (n, _) in caches.items() if n == "kmalloc-128")
            clean = {c["name"]: c for c in slableak_json(dump(k, "leak-tracked", "elf"))[1]["caches"]}
            bad = excluded_copy(dump(k, "leak-tracked", "kdump"), "kmem-cache-tail",
                                [(kc & ~0xfff) + 0x1000])
            for name, binary in BINARIES:
                p = run(bad, binary, "--json", "slableak")
                assert p.returncode == 0, p.stderr[-2000:]
                got = {c["name"]: c for c in json.loads(p.stdout)["caches"]}["kmalloc-128"]
                assert got["errors"] == [], (name, got["errors"])
                for key in ("allocated", "total", "slabs", "memory_bytes"):
                    assert got[key] == clean["kmalloc-128"][key], (name, key, got[key], clean["kmalloc-128"][key])
        yield k, case


def test_null_name_pointer():
    """kmalloc-128's name pointer zeroed in a copy of each kernel's
    leak-tracked dump: a NULL is never read (QEMU's ELF dumps map physical
    page 0, which once printed as the name "S\\xff", invalid UTF-8 in
    --json): the cache is named by its address, the error says why, and
    its counts and every other cache are the clean dump's."""
    from test_slab import slab_oracle
    from lab import KERNEL_BUILDS
    for k in KERNEL_BUILDS:
        def case(k=k):
            out = dump(k, "leak-tracked", "elf")
            kc = next(a for a, (n, _) in slab_oracle(k, "leak-tracked")[1].items() if n == "kmalloc-128")
            members, _ = kmem_cache_layout(k)
            bad = patched_copy(out, "null-name", [(kc + members["name"], bytes(8))])
            clean = {int(c["address"], 16): c for c in slableak_json(out)[1]["caches"]}
            for name, binary in BINARIES:
                p = run(bad, binary, "--json", "slableak")
                assert p.returncode == 0, p.stderr[-2000:]
                got = {int(c["address"], 16): c for c in json.loads(p.stdout)["caches"]}   # valid JSON, UTF-8
                assert got[kc]["name"] == "(unreadable name at 0x0)", got[kc]["name"]
                assert any("0x0 is not a kernel address" in e for e in got[kc]["errors"]), got[kc]["errors"]
                assert got[kc]["allocated"] == clean[kc]["allocated"] >= LEAK_N
                assert {a: (c["name"], c["allocated"], c["total"]) for a, c in got.items() if a != kc} == \
                    {a: (c["name"], c["allocated"], c["total"]) for a, c in clean.items() if a != kc}
        yield k, case


# kmalloc-128's kmem_cache given sizes and orders no kernel could hold
# (issue 13, 4): each named in the cache's row, no shift or size overflows
# (UBSan once reported shift exponents 34560 and 64), every other cache exact.
# A per-CPU pointer inside the static per-CPU area (cpu_slab once read as 0
# with no `!`, miscounting) is named too.
ORDER_CORRUPTIONS = {
    "order 0xffff": (lambda m: [(m["oo"], struct.pack("<I", 0xffff0010))], "make no sense"),
    "size 0 and order 63": (lambda m: [(m["size"], struct.pack("<I", 0)), (m["oo"], struct.pack("<I", 0x003f0010))],
                            "make no sense"),
    "object_size 2^31": (lambda m: [(m["object_size"], struct.pack("<I", 1 << 31))], "make no sense"),
    "per-CPU pointer 0x100": (lambda m: [(m.get("cpu_slab", m.get("cpu_sheaves")), struct.pack("<Q", 0x100))],
                              "per-CPU pointer 0x100 is no per-CPU allocation"),
}


def test_impossible_sizes_and_orders():
    from test_slab import slab_oracle
    from lab import KERNEL_BUILDS
    for k in KERNEL_BUILDS:
        for what, (patch, message) in ORDER_CORRUPTIONS.items():
            def case(k=k, patch=patch, message=message):
                out = dump(k, "leak-tracked", "elf")
                kc = next(a for a, (n, _) in slab_oracle(k, "leak-tracked")[1].items() if n == "kmalloc-128")
                members, _ = kmem_cache_layout(k)
                bad = patched_copy(out, "cache-sizes", [(kc + off, data) for off, data in patch(members)])
                clean = {int(c["address"], 16): c for c in slableak_json(out)[1]["caches"]}
                for name, binary in BINARIES:
                    for command in (("--json", "slableak"), ("slableak", "kmalloc-128"), ("--json", "memdiag")):
                        p = run(bad, binary, *command)   # no sanitizer report, no signal
                        assert p.returncode == 0, (command, p.stderr[-2000:])
                    got = {int(c["address"], 16): c for c in json.loads(run(bad, binary, "--json", "slableak").stdout)["caches"]}
                    assert any(message in e for e in got[kc]["errors"]), got[kc]["errors"]
                    assert {a: (c["allocated"], c["total"]) for a, c in got.items() if a != kc} == \
                        {a: (c["allocated"], c["total"]) for a, c in clean.items() if a != kc}
            yield "%s/%s" % (k, what), case


def test_two_caches_with_one_name():
    """kmalloc-64's name pointer set to kmalloc-128's, in a copy of each
    kernel's leak-tracked dump: `slableak kmalloc-128` says that two caches
    share the name, with both addresses, and analyses the largest (the
    leaking one, not the other as it once did); a kmem_cache address picks
    either one."""
    from test_slab import slab_oracle
    from test_target import ask
    from lab import KERNEL_BUILDS
    for k in KERNEL_BUILDS:
        def case(k=k):
            out = dump(k, "leak-tracked", "elf")
            by_name = {n: a for a, (n, _) in slab_oracle(k, "leak-tracked")[1].items()}
            k128, k64 = by_name["kmalloc-128"], by_name["kmalloc-64"]
            name = kmem_cache_layout(k)[0]["name"]
            ptr = ask(out, ["read %x 8" % (k128 + name)])[0]
            bad = patched_copy(out, "same-name", [(k64 + name, bytes.fromhex(ptr))])
            for label, binary in BINARIES:
                p = run(bad, binary, "--json", "slableak", "kmalloc-128")
                assert p.returncode == 0, p.stderr
                doc = json.loads(p.stdout)
                said = "2 caches are named 'kmalloc-128' (kmem_cache 0x%x, 0x%x)" % (k128, k64)
                assert any(said in w for w in doc.get("warnings", [])), doc.get("warnings")
                assert said in run(bad, binary, "slableak", "--wide", "kmalloc-128").stdout
                assert [int(c["address"], 16) for c in doc["caches"]] == [k128, k64]
                # the analysis is the leaking cache's: its 20,000 objects
                assert doc["verdict"]["kind"] == "probable leak" and "leaky_alloc_one" in doc["verdict"]["text"]
                other = json.loads(run(bad, binary, "--json", "slableak", "0x%x" % k64).stdout)
                assert [int(c["address"], 16) for c in other["caches"]] == [k64]
                assert other["verdict"]["kind"] != "probable leak", other["verdict"]
        yield k, case


def test_cut_filtered_dump_is_scanned_without_a_crash():
    """`slableak -u` on a filtered dump cut at 91%, 95% and 99% (6.1 and
    6.12) once died of SIGSEGV inside kdump_read(): libaddrxlat read a
    page-table page past the end through libkdumpfile's cache.  Now the scan
    finishes and names what is past the end.  Under ASan, leaks inside
    libkdumpfile itself are suppressed (tests/lsan-libkdumpfile.supp)."""
    env = dict(os.environ, LSAN_OPTIONS="suppressions=" + os.path.join(REPO, "tests", "lsan-libkdumpfile.supp"))
    for k in ("6.1", "6.12"):
        for fraction in (0.91, 0.95, 0.99):
            def case(k=k, fraction=fraction):
                tmp = cut_copy(dump(k, "leak-tracked", "filtered"), fraction)
                try:
                    for name, binary in BINARIES:
                        p = subprocess.run([binary, os.path.join(tmp, "vmlinux"), os.path.join(tmp, "vmcore"),
                                            "slableak", "-u", "kmalloc-128"], stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True, timeout=600, env=env)
                        assert p.returncode in (0, 1), "%s died of signal %d:\n%s" % (name, -p.returncode, p.stderr[-3000:])
                        assert not SANITIZER_REPORT.search(p.stderr), p.stderr[-3000:]
                        assert "truncated dump" in p.stderr.splitlines()[0], p.stderr
                        if p.returncode == 0:
                            assert "unreferenced objects (-u)" in p.stdout, p.stdout[-2000:]
                finally:
                    shutil.rmtree(tmp)
            yield "%s/%d%%" % (k, fraction * 100), case


def test_random_mutations():
    """A bounded part of the mutation campaign (scripts/mutate, issue 13):
    random words of kmem_caches, slab pages, struct pages, task_structs,
    vmap_areas and the printk ring overwritten in a copy of a lab dump, and
    every command run under ASan and UBSan after each: no signal, sanitizer
    report or hang, and no cache, zone or process lost without a `!`.
    README gives the figures of the long runs."""
    from test_slab import build
    for k, s, seed in (("6.1", "leak-tracked", 101), ("6.12", "oom", 102), ("7.2", "leak-tracked", 103)):
        def case(k=k, s=s, seed=seed):
            build("build/target_probe")
            build("build/asan/memdiag")
            p = subprocess.run([os.path.join(REPO, "scripts", "mutate"), "--trials", "40", "--seed", str(seed),
                                dump(k, s, "elf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=1800)
            assert p.returncode == 0 and "; 0 failures" in p.stdout, p.stdout[-4000:]
        yield "%s/%s" % (k, s), case


IMAGE_VARIABLES = ("max_pfn", "nr_cpu_ids", "tcp_memory_allocated", "hstates")


@functools.lru_cache(maxsize=None)
def baseline_facts(kernel):
    """From crash, in two sessions per kernel, on the baseline ELF dump: the
    direct-map aliases of IMAGE_VARIABLES, max_pfn's value, and the
    addresses of node 0's node_spanned_pages, DMA32's low watermark and
    boost, and hstates[0].free_huge_pages."""
    out = dump(kernel, "baseline", "elf")
    *syms, value, span, wmark, boost, hfree = crash_outputs(out, [
        "sym %s" % v for v in IMAGE_VARIABLES] + [
        "p/x max_pfn", "p &node_data[0]->node_spanned_pages",
        "p &node_data[0]->node_zones[1]._watermark[1]", "p &node_data[0]->node_zones[1].watermark_boost",
        "p &hstates[0].free_huge_pages"])
    vtops = crash_outputs(out, ["vtop %s" % sym.split()[0] for sym in syms])
    facts = {"out": out, "max_pfn_value": int(value.split("=")[1], 16)}
    for name, sym, vtop in zip(IMAGE_VARIABLES, syms, vtops):
        phys = int(re.search(r"^%s\s+([0-9a-f]+)" % sym.split()[0], vtop, re.M).group(1), 16)
        facts[name] = DIRECT_MAP + phys
    addr = [int(re.search(r"\) (0x[0-9a-f]+)", t).group(1), 16) for t in (span, wmark, boost, hfree)]
    hstates = int(syms[IMAGE_VARIABLES.index("hstates")].split()[0], 16)
    facts.update(node_spanned_pages=addr[0], dma32_wmark_low=addr[1], dma32_boost=addr[2],
                 free_huge_pages=facts["hstates"] + addr[3] - hstates)
    return facts


def assert_only_warned(out, bad, warning, commands):
    """Each command prints on the patched copy bad, in both builds, the one
    session warning and then exactly what it prints on the clean dump out."""
    for command in commands:
        want = run(out, MEMDIAG, *command.split()).stdout
        for name, binary in BINARIES:
            p = run(bad, binary, *command.split())
            assert p.returncode == 0, p.stderr
            assert p.stdout == warning + want, (name, command, p.stdout[:3000])


def test_corrupt_max_pfn_is_named_and_replaced():
    """Found by the fuzzer (tests/test_replay.py): a corrupt max_pfn
    (0x200000004000 pages) sized a bitmap of terabytes, which ASan refused
    (allocation-size-too-big) and a plain build would have tried.  max_pfn
    is checked against the end of the nodes' spans: named, that end used in
    its place, and every command prints what it prints on the clean dump."""
    for kernel in ("6.1", "6.12"):
        def case(kernel=kernel):
            f = baseline_facts(kernel)
            out, clean_max = f["out"], f["max_pfn_value"]
            bad = patched_copy(out, "max-pfn", [(f["max_pfn"], struct.pack("<Q", 0x200000004000))])
            warning = ("memdiag: max_pfn 0x200000004000 cannot be right: the nodes end at pfn "
                       "0x%x, which is used instead\n" % clean_max)
            assert_only_warned(out, bad, warning, ("buddyfrag", "oomstate", "vmalloc", "slableak",
                                                   "slableak -u kmalloc-128"))
        yield kernel, case


def test_max_pfn_and_node_span_beyond_the_memory_sections():
    """Found by the fuzzer: max_pfn and node 0's span made to agree on
    0xcc00020000 pages sized a buddy bitmap of 109 GB (ASan: out of
    memory).  Both are checked against the present memory sections
    (mm/sparse.c mem_section): max_pfn is named and replaced by the end of
    the last present section, the span is bounded and named, and every
    cache keeps its clean counts."""
    for kernel in ("6.1", "6.12"):
        def case(kernel=kernel):
            f = baseline_facts(kernel)
            out, end = f["out"], 0xcc00020000
            bad = patched_copy(out, "max-pfn-span", [(f["max_pfn"], struct.pack("<Q", end)),
                                                      (f["node_spanned_pages"], struct.pack("<Q", end - 1))])
            # 128 MiB sections: a 512 MiB guest's last one ends at pfn 0x20000
            warning = ("memdiag: max_pfn 0x%x cannot be right: the last present memory section ends "
                       "at pfn 0x20000, which is used instead\n" % end)
            assert_only_warned(out, bad, warning, ("buddyfrag", "oomstate", "vmalloc"))
            clean = {c["address"]: (c["allocated"], c["total"], c["slabs"]) for c in slableak_json(out)[0].values()}
            for name, binary in BINARIES:
                p = run(bad, binary, "slableak", "--wide")   # "!" lines unwrapped
                assert p.returncode == 0 and p.stdout.startswith(warning), (name, p.stdout[:2000])
                assert re.search(r"^  ! node 0: span of %d pages from pfn 0x1 is beyond max_pfn 0x20000: "
                                 r"corrupt; walked up to max_pfn$" % (end - 1), p.stdout, re.M), p.stdout[-3000:]
                got = {c["address"]: (c["allocated"], c["total"], c["slabs"])
                       for c in slableak_json(bad, binary=binary)[0].values()}
                assert got == clean, sorted(set(got.items()) ^ set(clean.items()))
        yield kernel, case


def test_nr_cpu_ids_beyond_the_possible_cpus_is_named():
    """Found by the fuzzer: nr_cpu_ids made 29442 had every per-CPU walk of
    every cache run over 29,440 CPUs that never were, one error message
    each (seconds under ASan).  nr_cpu_ids is one past the last possible
    CPU (kernel/smp.c setup_nr_cpu_ids()): the two are checked, the
    mismatch named, the smaller used, and every command prints what it
    prints on the clean dump."""
    for kernel in ("6.1", "6.12"):
        def case(kernel=kernel):
            f = baseline_facts(kernel)
            out = f["out"]
            bad = patched_copy(out, "nr-cpu-ids", [(f["nr_cpu_ids"], struct.pack("<I", 29442))])
            warning = "memdiag: nr_cpu_ids is 29442 but the last possible CPU is 1: corrupt; CPUs 0 to 1 are used\n"
            assert_only_warned(out, bad, warning, ("buddyfrag", "oomstate", "slableak", "slableak -u kmalloc-128"))
        yield kernel, case


def test_impossible_socket_memory_is_named():
    """Found by the fuzzer: a tcp_memory_allocated of 0x77 << 56 pages
    overflowed the kB figure (UBSan: signed overflow) and would have been
    printed as a fact.  It is bounded by the memory map: named as corrupt,
    left out of the sockets line, the rest of the summary unchanged."""
    for kernel in ("6.1", "6.12"):
        def case(kernel=kernel):
            f = baseline_facts(kernel)
            out = f["out"]
            bad = patched_copy(out, "tcp-pages", [(f["tcp_memory_allocated"], struct.pack("<Q", 0x77 << 56))])
            clean = run(out, MEMDIAG, "memdiag", "--wide").stdout.splitlines()   # lines unwrapped
            sockets = [i for i, line in enumerate(clean) if line.startswith("sockets (")]
            assert len(sockets) == 1 and " TCP " in clean[sockets[0]], clean
            want = clean[:sockets[0]] + [
                "  ! socket memory: tcp_memory_allocated is %d, beyond the %d pages of the memory map: "
                "corrupt" % (0x77 << 56, f["max_pfn_value"]),
                re.sub(r" TCP \d+ kB(, )?", " ", clean[sockets[0]]).replace(":  ", ": ")] + clean[sockets[0] + 1:]
            for name, binary in BINARIES:
                p = run(bad, binary, "memdiag", "--wide")
                assert p.returncode == 0, p.stderr
                assert p.stdout.splitlines() == want, (name, p.stdout[:5000])
        yield kernel, case


def test_impossible_huge_page_counts_are_named():
    """Found by the fuzzer: hstates[0].free_huge_pages of 2^54 made the
    summary's hugetlb figure overflow (UBSan: signed overflow).  A count of
    huge pages beyond what the memory map holds is named as corrupt; the
    lines that stand on it (HugePages_*, Hugepagesize, Hugetlb, CommitLimit)
    are left out, each saying why, and every other line is the clean
    dump's."""
    hugetlb = ("HugePages_", "Hugepagesize:", "Hugetlb:", "CommitLimit:")
    for kernel in ("6.1", "6.12"):
        def case(kernel=kernel):
            f = baseline_facts(kernel)
            out = f["out"]
            bad = patched_copy(out, "huge-pages", [(f["free_huge_pages"], struct.pack("<Q", 1 << 54))])
            clean = run(out, MEMDIAG, "memdiag", "--wide").stdout.splitlines()   # lines unwrapped
            assert any(line.startswith("HugePages_Free:") for line in clean), clean
            for name, binary in BINARIES:
                p = run(bad, binary, "memdiag", "--wide")
                assert p.returncode == 0, p.stderr
                got = p.stdout.splitlines()
                why = [line for line in got if line.startswith("  ! ")]
                assert len(why) == len(hugetlb) + 3 and all(re.match(
                    r"^  ! (HugePages_\w+|Hugepagesize|Hugetlb|CommitLimit): left out: hstates\[0\]: \d+ "
                    r"huge pages of order 9 \(%d free, \d+ reserved, \d+ surplus\), beyond the %d pages "
                    r"of the memory map: corrupt$" % (1 << 54, f["max_pfn_value"]), line) for line in why), why
                assert [line for line in got if line not in why] == \
                    [line for line in clean if not line.startswith(hugetlb)], (name, p.stdout[:4000])
        yield kernel, case


def test_node_span_beyond_the_memory_map_is_bounded():
    """Found by the fuzzer: node 0's node_spanned_pages made 2^40 had the
    slab pass over struct pages read vmemmap that cannot exist, page by
    failing page, for hours.  The span is bounded by max_pfn and named; each
    cache keeps its clean counts."""
    for kernel in ("6.1", "6.12"):
        def case(kernel=kernel):
            f = baseline_facts(kernel)
            out = f["out"]
            bad = patched_copy(out, "node-span", [(f["node_spanned_pages"], struct.pack("<Q", 1 << 40))])
            clean = {c["address"]: (c["allocated"], c["total"], c["slabs"]) for c in slableak_json(out)[0].values()}
            for name, binary in BINARIES:
                p = run(bad, binary, "slableak", "--wide")   # "!" lines unwrapped
                assert p.returncode == 0, p.stderr
                assert re.search(r"^  ! node 0: span of 1099511627776 pages from pfn 0x\w+ is beyond max_pfn "
                                 r"0x\w+: corrupt; walked up to max_pfn$", p.stdout, re.M), p.stdout[:3000]
                got = {c["address"]: (c["allocated"], c["total"], c["slabs"])
                       for c in slableak_json(bad, binary=binary)[0].values()}
                assert got == clean, sorted(set(got.items()) ^ set(clean.items()))
        yield kernel, case


def test_corrupt_watermarks_do_not_overflow():
    """Found by the fault sweeps' random reads: a zone's low watermark and
    boost summed past 2^63 (UBSan: signed overflow in the watermark check).
    The check is done in 128 bits: the zone is judged below its watermark,
    every other zone as on the clean dump."""
    for kernel in ("6.1", "6.12"):
        def case(kernel=kernel):
            f = baseline_facts(kernel)
            out = f["out"]
            bad = patched_copy(out, "watermarks", [(f[a], struct.pack("<Q", 0x7300000000000000))
                                                   for a in ("dma32_wmark_low", "dma32_boost")])
            clean = run(out, MEMDIAG, "buddyfrag", "--wide").stdout   # verdicts unwrapped
            for name, binary in BINARIES:
                p = run(bad, binary, "buddyfrag", "--wide")
                assert p.returncode == 0, p.stderr
                assert re.search(r"^  DMA32: .* at or below the low watermark", p.stdout, re.M), p.stdout
                assert re.search(r"^  DMA: ", p.stdout, re.M) and \
                    re.search(r"^  DMA: .*", clean, re.M).group(0) in p.stdout
        yield kernel, case


def mutate_tools():
    """scripts/mutate's Dump (physical memory of an ELF dump, its page tables)
    and probe (build/target_probe)."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("mutate", os.path.join(REPO, "scripts", "mutate"))
    spec = importlib.util.spec_from_loader("mutate", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_slab_objects_beyond_its_order_are_named_and_cut():
    """A slab's object count (struct slab.objects) set to 4,000 in the slab
    that holds kmalloc-128's kmem_cache (a slab of the kmem_cache cache; its
    address from the newest peer): it once counted 4,000 objects and, in
    `slableak -u`, reached into the slabs that follow it (49 "unreferenced"
    sigqueues where 0 were allocated).  Now the slab's compound order (mm/slub.c
    slab_order(), check_slab()) bounds it: named in the kmem_cache cache's row,
    cut to what fits, and every cache keeps the clean dump's figures, with the
    same unreferenced objects."""
    from test_slab import slab_oracle
    from lab import KERNEL_BUILDS
    mutate = mutate_tools()
    for k in KERNEL_BUILDS:
        def case(k=k):
            out = dump(k, "leak-tracked", "elf")
            kc = next(a for a, (n, _) in slab_oracle(k, "leak-tracked")[1].items() if n == "kmalloc-128")
            probe = mutate.probe(out, ["sym init_top_pgt", "sym vmemmap_base", "size struct page",
                                       "member struct page compound_head", "member struct page compound_info",
                                       "member struct slab objects", "member struct page objects"])
            d = mutate.Dump(os.path.realpath(os.path.join(out, "vmcore")))
            cr3 = int(probe[0], 16) - mutate.START_KERNEL_MAP
            vmemmap = struct.unpack("<Q", d.read(d.phys(int(probe[1], 16), cr3), 8))[0]
            psize = int(probe[2])
            head_off = next(int(m.group(1)) for m in (re.match(r"offset=(\d+)", x) for x in probe[3:5]) if m)
            objects = next(m for m in (re.match(r"offset=\d+ bit_offset=(\d+) bit_size=(\d+)", x)
                                       for x in probe[5:7]) if m)
            bit, width = int(objects.group(1)), int(objects.group(2))
            page = vmemmap + ((kc & ~0xfff) - DIRECT_MAP) // 4096 * psize
            head = struct.unpack("<Q", d.read(d.phys(page + head_off, cr3), 8))[0]
            if head & 1:   # a tail page (include/linux/page-flags.h _compound_head(), 7.1's mask)
                head = head - 1 if vmemmap <= head - 1 < 0xffffffffa0000000 else page & head
            else:
                head = page
            word_at = head + bit // 64 * 8
            word = struct.unpack("<Q", d.read(d.phys(word_at, cr3), 8))[0]
            shift = bit % 64
            new = word & ~(((1 << width) - 1) << shift) | (4000 << shift)
            bad = patched_copy(out, "slab-objects", [(DIRECT_MAP + d.phys(word_at, cr3), struct.pack("<Q", new))])
            clean_u = json.loads(memdiag(out, "--json", "slableak", "-u").stdout)
            message = re.compile(r"slab 0x[0-9a-f]+: 4000 objects cannot fit its order-\d+ pages of \d+-byte "
                                 r"slots: corrupt; counted as \d+")
            for name, binary in BINARIES:
                p = run(bad, binary, "--json", "slableak", "-u")
                assert p.returncode == 0, p.stderr[-2000:]
                doc = json.loads(p.stdout)
                rows = {c["address"]: c for c in doc["caches"]}
                clean = {c["address"]: c for c in clean_u["caches"]}
                hurt = next(c for c in doc["caches"] if c["name"] == "kmem_cache")
                assert any(message.search(e) for e in hurt["errors"]), hurt["errors"]
                assert {a: (c["allocated"], c["total"], c["slabs"]) for a, c in rows.items()} == \
                    {a: (c["allocated"], c["total"], c["slabs"]) for a, c in clean.items()}
                assert doc["orphan_scan"] == clean_u["orphan_scan"], (doc["orphan_scan"], clean_u["orphan_scan"])
                assert re.search(r"^  ! kmem_cache: " + message.pattern, run(bad, binary, "slableak", "--wide").stdout, re.M)
        yield k, case


def test_a_zeroed_freelist_is_named():
    """Random-mutation trials on two clean machines' 6.1 dumps zeroed the
    freelist of a vmap_area slab: the slab then counted as full (13, then 8,
    more vmap_areas allocated), and nothing said so.  A slab's inuse counter
    leaves out exactly the objects on its own freelist (mm/slub.c
    __slab_free(), get_freelist()), so a slab whose freelist is gone must
    show inuse < objects and be named.  Here the first slab of
    kmalloc-128's node partial list, as crash 9.0.2's `kmem -S` lists it
    (the kernels where it can), loses its freelist: the cache's row must name
    the disagreement, and every other cache keep the clean dump's figures."""
    from lab import peer_crash
    from test_slab import build
    mutate = mutate_tools()
    for k in ("5.10", "6.1", "6.12"):
        def case(k=k):
            build("build/target_probe")
            out = dump(k, "leak-tracked", "elf")
            listing = peer_crash(out, ["kmem -S kmalloc-128"])
            m = re.search(r"^NODE 0 PARTIAL:\n.*\n  ([0-9a-f]{16})  [0-9a-f]+ +\d+ +(\d+) +(\d+) +(\d+)$",
                          listing, re.M)
            assert m, "crash 9.0.2 lists no node partial slab of kmalloc-128:\n" + listing[:3000]
            slab, free = int(m.group(1), 16), int(m.group(4))
            assert free > 0, m.group(0)
            probe = mutate.probe(out, ["sym init_top_pgt", "member struct slab freelist",
                                       "member struct page freelist"])
            cr3 = int(probe[0], 16) - mutate.START_KERNEL_MAP
            off = next(int(x.group(1)) for x in (re.match(r"offset=(\d+)", p) for p in probe[1:]) if x)
            d = mutate.Dump(os.path.realpath(os.path.join(out, "vmcore")))
            bad = patched_copy(out, "zeroed-freelist", [(DIRECT_MAP + d.phys(slab + off, cr3), bytes(8))])
            clean = {c["address"]: c for c in slableak_json(out)[1]["caches"]}
            for name, binary in BINARIES:
                p = run(bad, binary, "--json", "slableak")
                assert p.returncode == 0, p.stderr[-2000:]
                rows = {c["address"]: c for c in json.loads(p.stdout)["caches"]}
                hurt = next(c for c in rows.values() if c["name"] == "kmalloc-128")
                assert "1 slabs' inuse counters disagree with their freelists" in hurt["errors"], hurt["errors"]
                assert hurt["allocated"] == clean[hurt["address"]]["allocated"] + free
                rows.pop(hurt["address"])
                assert {a: (c["allocated"], c["total"], c["slabs"], c["errors"]) for a, c in rows.items()} == \
                    {a: (c["allocated"], c["total"], c["slabs"], c["errors"]) for a, c in clean.items()
                     if a in rows}, name
        yield k, case
