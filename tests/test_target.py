"""The standalone program's target (cli/kdump_target.c), through tests/target_probe.

Every answer is checked against a source other than the target itself:
types against pahole reading DWARF (the target reads BTF) and, on 6.1,
crash's `struct -o` (crash 8.0.2's gdb crashes on 6.12's types); symbols
against the vmlinux's symbol table as readelf prints it and, where KASLR
moves them, against crash's `sym`; VMCOREINFO against info.json; a
filtered-out page against the unfiltered dump of the same moment.
"""

import functools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from lab import (FORMATS, KERNEL_BUILDS, KERNELS, REPO, kernel_of, crash, crash_802_is_an_oracle, dump, elf_sections,
                 info, kaslr_dump)

PROBE = os.path.join(REPO, "build", "target_probe")
ASAN_PROBE = os.path.join(REPO, "build", "asan", "target_probe")
ERROR = re.compile(r"^error: (.*) \((MD_ERR_\w+)\)$")
OPEN_ERROR = re.compile(r"^target_probe: error: (.*) \((MD_ERR_\w+)\)$", re.M)
_built = set()

# (type, member) pairs the core uses, with bit-fields and anonymous unions among them.
MEMBERS = [
    ("kmem_cache", m) for m in ("size", "object_size", "offset", "cpu_slab", "node", "name", "list",
                                "flags", "random", "red_left_pad", "oo", "min", "inuse")
] + [
    ("slab", m) for m in ("slab_cache", "freelist", "slab_list", "counters", "inuse", "objects",
                          "frozen", "next")
] + [
    ("page", m) for m in ("flags", "compound_head", "page_type")
] + [
    ("kmem_cache_node", m) for m in ("partial", "nr_partial", "nr_slabs", "total_objects", "full")
] + [
    ("kmem_cache_cpu", m) for m in ("freelist", "slab", "partial")
] + [("task_struct", "comm")]
STRUCTS = sorted({t for t, _ in MEMBERS} | {"kmem_cache_order_objects"})
ENUMS = ("pageflags", "pagetype", "_slab_flag_bits")
ENUMERATORS = ("PG_slab", "PG_head", "PGTY_slab", "_SLAB_STORE_USER", "_SLAB_RECLAIM_ACCOUNT")


def build(target):
    if target not in _built:
        env = dict(os.environ)
        env.pop("SANITIZE", None)
        args = ["SANITIZE=1"] if target.startswith("build/asan/") else []
        subprocess.run(["make", "-s", "-C", REPO] + args + [target], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        _built.add(target)


def run_probe(vmlinux, vmcore, commands=(), binary=PROBE, timing=False):
    build(os.path.relpath(binary, REPO))
    return subprocess.run([binary] + (["-t"] if timing else []) + [vmlinux, vmcore],
                          input="".join(c + "\n" for c in commands), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300)


def ask(outdir, commands, binary=PROBE):
    """One answer line per command; the probe must open the dump."""
    p = run_probe(os.path.join(outdir, "vmlinux"), os.path.join(outdir, "vmcore"), commands, binary)
    assert p.returncode == 0, "target_probe failed (%d):\n%s" % (p.returncode, p.stderr)
    lines = p.stdout.splitlines()
    assert len(lines) == len(commands), "%d answers to %d commands:\n%s" % (len(lines), len(commands), p.stdout)
    return lines


def error_of(line):
    """(message, code) of an "error: ..." answer, or None."""
    m = ERROR.match(line)
    return (m.group(1), m.group(2)) if m else None


def member_answer(line):
    m = re.match(r"^offset=(\d+) bit_offset=(\d+) bit_size=(\d+) size=(\d+)$", line)
    assert m, "not a member answer: " + line
    return {"offset": int(m.group(1)), "bit_offset": int(m.group(2)), "bit_size": int(m.group(3)),
            "size": int(m.group(4))}


def read_text(line):
    assert not error_of(line), line
    return bytes.fromhex(line).split(b"\0")[0].decode()


# ----------------------------------------------------------------------------
# Oracles

@functools.lru_cache(maxsize=None)
def pahole(kernel):
    """pahole's DWARF view: ({struct: {"size": N, "members": {name: [(bit_offset, bit_size, size)]}}},
    {enumerator: value})."""
    vmlinux = os.path.join(dump(kernel, "baseline", "elf"), "vmlinux")
    # One name per run: given a list, pahole stops at the first name the
    # kernel lacks (5.10 has no struct slab) and prints none after it.
    out = "".join(subprocess.run(["pahole", "-F", "dwarf", "-C", name, vmlinux], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, check=True, timeout=300).stdout
                  for name in STRUCTS + list(ENUMS))
    return pahole_text(out, vmlinux)


def pahole_text(out, vmlinux=None):
    """pahole's printout parsed: ({struct: {"size", "members"}}, {enumerator: value})."""
    structs, enums, cur = {}, {}, None
    # 7.x builds with -fms-extensions: "struct freelist_counters;" inside
    # struct slab is an unnamed member of a named type, whose members are
    # struct slab's (pahole prints it without a name, and without them).
    embedded = re.compile(r"^\s+(?:struct|union) (\w+)\s*(?: __attribute__\(\(.*\)\))?;\s+/\*\s+(\d+)\s+(\d+)\s+\*/")
    embeds = []
    member = re.compile(r"^\s+.*?\b(\w+)(?:\[\d+\])*(?::(\d+))?(?: __attribute__\(\(.*\)\))?;"
                        r"\s+/\*\s+(\d+)(?::\s*(\d+))?\s+(\d+)\s+\*/")
    for line in out.splitlines():
        m = re.match(r"^(struct|union|enum) (\w+) \{", line)
        if m:
            cur = structs.setdefault(m.group(2), {"members": {}}) if m.group(1) != "enum" else None
            continue
        m = re.match(r"^\t(\w+)\s*=\s*(-?\d+),?$", line)
        if m and cur is None:
            enums[m.group(1)] = int(m.group(2))
            continue
        if cur is None:
            continue
        m = re.search(r"/\* size: (\d+),", line)
        if m:
            cur["size"] = int(m.group(1))
            continue
        m = embedded.match(line)
        if m:
            embeds.append((cur, m.group(1), int(m.group(2))))
            continue
        m = member.match(line)
        if m:
            name, bits, off, bit, size = m.groups()
            cur["members"].setdefault(name, []).append(
                (int(off) * 8 + int(bit or 0), int(bits or 0), int(size)))
    for outer, name, off in embeds:
        inner, _ = pahole_text(subprocess.run(["pahole", "-F", "dwarf", "-C", name, vmlinux], stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True, check=True, timeout=300).stdout)
        for m, places in inner.get(name, {"members": {}})["members"].items():
            for bit_offset, bit_size, size in places:
                outer["members"].setdefault(m, []).append((off * 8 + bit_offset, bit_size, size))
    return structs, enums


def parse_crash_structs(text):
    """crash `struct -o` output: {struct: {"size": N, "members": {name: [byte offset]}}}."""
    structs, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^struct (\w+) \{$", line)
        if m:
            cur = structs.setdefault(m.group(1), {"members": {}})
            continue
        m = re.match(r"^SIZE: (\d+)$", line)
        if m and cur is not None:
            cur["size"] = int(m.group(1))
            cur = None
            continue
        m = re.match(r"^\s*\[(\d+)\]\s.*?\b(\w+)(?:\[\d+\])*(?:\s*:\s*\d+)?;$", line)
        if m and cur is not None:
            cur["members"].setdefault(m.group(2), []).append(int(m.group(1)))
    return structs


@functools.lru_cache(maxsize=None)
def crash_oracle(outdir, extra=()):
    """crash's struct layouts (6.1 only: its gdb crashes on 6.12's), `sym`
    lines, and its whole output, in one crash session per dump; without
    KASLR also `sym` of the alloc function + 5 (test_crash_names_the_address)."""
    cmds = ["sym init_task", "sym runqueues"] + list(extra)
    if not info(outdir)["kaslr"]:
        cmds.append("sym %x" % alloc_function_plus_5(os.path.join(outdir, "vmlinux"))[1])
    if crash_802_is_an_oracle(outdir):
        cmds += ["struct -o " + s for s in STRUCTS]
    out = crash(outdir, cmds)
    syms = {}
    for m in re.finditer(r"^([0-9a-f]+) \(\w\) (\S+)", out, re.M):
        syms[m.group(2)] = int(m.group(1), 16)
    return parse_crash_structs(out), syms, out


@functools.lru_cache(maxsize=None)
def elf_symbols(vmlinux):
    """readelf's view of the symbol table: {name: (value, type)} (first definition)."""
    out = subprocess.run(["readelf", "-sW", vmlinux], stdout=subprocess.PIPE, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 8 and f[0][:-1].isdigit() and f[6] != "UND":
            syms.setdefault(f[7], (int(f[1], 16), f[3]))
    return syms


def alloc_function(vmlinux):
    """kmem_cache_alloc, or its 6.10+ name under memory allocation profiling."""
    syms = elf_symbols(vmlinux)
    for name in ("kmem_cache_alloc", "kmem_cache_alloc_noprof"):
        if syms.get(name, (0, ""))[1] == "FUNC":
            return name
    raise AssertionError("no kmem_cache_alloc in " + vmlinux)


def alloc_function_plus_5(vmlinux):
    """(the alloc function, its address + 5): an address inside a function."""
    fn = alloc_function(vmlinux)
    return fn, elf_symbols(vmlinux)[fn][0] + 5


def baseline_dumps(kernels=KERNELS):
    for k in kernels:
        for f in FORMATS:
            yield "%s/baseline/%s" % (k, f), k, f


# ----------------------------------------------------------------------------
# Types

def test_member_layout():
    """member offsets, bit-fields and sizes equal pahole's (DWARF), and crash's on 6.1."""
    for name, k, f in baseline_dumps(KERNEL_BUILDS):
        def case(k=k, f=f):
            out = dump(k, "baseline", f)
            structs, _ = pahole(k)
            cstructs = crash_oracle(dump(k, "baseline", "elf"))[0]
            if k == "6.1":
                assert "kmem_cache" in cstructs, "crash printed no struct kmem_cache"
            answers = ask(out, ["member struct %s %s" % tm for tm in MEMBERS])
            for (t, m), line in zip(MEMBERS, answers):
                # a struct this kernel lacks (5.10: struct slab) has no members
                want = structs.get(t, {"members": {}})["members"].get(m)
                if want is None:
                    assert error_of(line) and error_of(line)[1] == "MD_ERR_LOOKUP", \
                        "%s.%s: pahole has none, target said %s" % (t, m, line)
                    continue
                assert len(want) == 1, "pahole shows %s.%s %d times" % (t, m, len(want))
                got = member_answer(line)
                assert (got["bit_offset"], got["bit_size"], got["size"]) == want[0], \
                    "%s.%s: target %s, pahole (bit_offset, bit_size, size) %s" % (t, m, line, want[0])
                if t in cstructs:
                    assert cstructs[t]["members"].get(m) == [got["bit_offset"] // 8], \
                        "%s.%s: target offset %d, crash %s" % (t, m, got["offset"], cstructs[t]["members"].get(m))
        yield name, case


def test_type_sizes():
    """size of each struct, typedefs, base types, a dotted path and absent names."""
    for name, k, f in baseline_dumps(KERNEL_BUILDS):
        def case(k=k, f=f):
            structs, _ = pahole(k)
            cstructs = crash_oracle(dump(k, "baseline", "elf"))[0]
            cmds = ["size struct " + s for s in STRUCTS] + [
                "size unsigned long", "size atomic_long_t", "size struct page *", "size int",
                "member struct kmem_cache oo.x", "size struct no_such_struct",
                "member struct kmem_cache no_such_member", "member struct kmem_cache name.x"]
            a = ask(dump(k, "baseline", f), cmds)
            for s, line in zip(STRUCTS, a):
                if s not in structs:   # this kernel lacks it (5.10: struct slab)
                    assert error_of(line) and error_of(line)[1] == "MD_ERR_LOOKUP", "struct %s: %s" % (s, line)
                    continue
                assert line == str(structs[s]["size"]), "struct %s: target %s, pahole %d" % (s, line, structs[s]["size"])
                if s in cstructs:
                    assert int(line) == cstructs[s]["size"], "struct %s: target %s, crash %d" % (s, line, cstructs[s]["size"])
            rest = dict(zip(cmds[len(STRUCTS):], a[len(STRUCTS):]))
            assert rest["size unsigned long"] == "8" and rest["size atomic_long_t"] == "8"
            assert rest["size struct page *"] == "8" and rest["size int"] == "4"
            oo = structs["kmem_cache"]["members"]["oo"][0][0]
            x = structs["kmem_cache_order_objects"]["members"]["x"][0][0]
            assert member_answer(rest["member struct kmem_cache oo.x"])["bit_offset"] == oo + x
            for c in cmds[-3:]:
                assert error_of(rest[c]) and error_of(rest[c])[1] == "MD_ERR_LOOKUP", c + ": " + rest[c]
        yield name, case


def test_enumerators():
    """enumerator values equal pahole's; one the kernel lacks is MD_ERR_LOOKUP."""
    for name, k, f in baseline_dumps(KERNEL_BUILDS):
        def case(k=k, f=f):
            _, enums = pahole(k)
            for e, line in zip(ENUMERATORS, ask(dump(k, "baseline", f), ["enum " + e for e in ENUMERATORS])):
                if e in enums:
                    assert line == str(enums[e]), "%s: target %s, pahole %d" % (e, line, enums[e])
                else:
                    assert error_of(line) and error_of(line)[1] == "MD_ERR_LOOKUP", "%s: %s" % (e, line)
        yield name, case


# ----------------------------------------------------------------------------
# Symbols, memory, VMCOREINFO

def check_symbols(out, syms_oracle, offset):
    """init_task's comm, the alloc function's name, a per-cpu symbol: against
    the vmlinux's symbol table moved by offset, or crash's addresses."""
    vmlinux = os.path.join(out, "vmlinux")
    elf = elf_symbols(vmlinux)
    fn = alloc_function(vmlinux)
    init_task = syms_oracle.get("init_task", elf["init_task"][0] + offset)
    fn_addr = syms_oracle.get(fn, elf[fn][0] + offset)
    # Per-cpu symbols are offsets into each CPU's area: KASLR does not move them.
    percpu = syms_oracle.get("runqueues", elf["runqueues"][0])
    comm = member_answer(ask(out, ["member struct task_struct comm"])[0])
    a = ask(out, ["sym init_task", "sym " + fn, "sym runqueues",
                  "read %x %d" % (init_task + comm["offset"], comm["size"]),
                  "name %x" % (fn_addr + 5), "name %x" % fn_addr, "name %x" % (elf["_end"][0] + offset),
                  "name 1000", "sym no_such_symbol"])
    assert a[0] == "0x%x" % init_task, "init_task at %s, oracle 0x%x" % (a[0], init_task)
    assert a[1] == "0x%x" % fn_addr, "%s at %s, oracle 0x%x" % (fn, a[1], fn_addr)
    assert a[2] == "0x%x" % percpu, "runqueues at %s, oracle 0x%x" % (a[2], percpu)
    assert read_text(a[3]) == "swapper/0", "init_task.comm is %r" % a[3]
    assert a[4] == fn + "+0x5", "name of %s+5: %s" % (fn, a[4])
    assert a[5] == fn + "+0x0", "name of %s: %s" % (fn, a[5])
    for line in a[6:]:
        assert error_of(line) and error_of(line)[1] == "MD_ERR_LOOKUP", line


def test_symbols():
    """sym/read/name on every baseline dump (nokaslr: readelf's values, and crash's on 6.1)."""
    for name, k, f in baseline_dumps():
        def case(k=k, f=f):
            out = dump(k, "baseline", f)
            assert info(out)["kaslr"] is False
            syms = crash_oracle(dump(k, "baseline", "elf"))[1]
            elf = elf_symbols(os.path.join(out, "vmlinux"))
            assert syms.get("init_task") == elf["init_task"][0], "crash and readelf disagree on init_task"
            check_symbols(out, {}, 0)
        yield name, case


def test_crash_names_the_address():
    """crash's `sym ADDR` for the alloc function + 5 is the target's name, in crash's spelling."""
    for k in KERNEL_BUILDS:
        def case(k=k):
            out = dump(k, "baseline", "elf")
            fn, addr = alloc_function_plus_5(os.path.join(out, "vmlinux"))
            text = crash_oracle(out)[2]
            assert re.search(r"^%x \(\w\) %s\+5\b" % (addr, fn), text, re.M), text[-2000:]
            assert ask(out, ["name %x" % addr]) == [fn + "+0x5"]
        yield k, case


def test_vmcoreinfo():
    """OSRELEASE is info.json's kernel_release; an absent key is MD_ERR_LOOKUP."""
    for name, k, f in baseline_dumps():
        def case(k=k, f=f):
            out = dump(k, "baseline", f)
            a = ask(out, ["vmcoreinfo OSRELEASE", "vmcoreinfo PAGESIZE", "vmcoreinfo NO_SUCH_KEY"])
            assert a[0] == info(out)["kernel_release"], a[0]
            assert a[1] == "4096", a[1]
            assert error_of(a[2]) and error_of(a[2])[1] == "MD_ERR_LOOKUP", a[2]
        yield name, case


def test_kaslr():
    """A KASLR dump: addresses, comm and names agree with crash, which finds the offset itself."""
    for f in FORMATS:
        def case(f=f):
            out = kaslr_dump("6.1", f)
            fn = alloc_function(os.path.join(out, "vmlinux"))
            _, syms, _ = crash_oracle(out, ("sym " + fn,))
            elf = elf_symbols(os.path.join(out, "vmlinux"))
            offset = syms["init_task"] - elf["init_task"][0]
            assert offset != 0, "crash sees no KASLR offset: is this dump really randomized?"
            assert ask(out, ["vmcoreinfo KERNELOFFSET"]) == ["%x" % offset]
            check_symbols(out, syms, offset)
            # The link-time address means nothing in a moved kernel.
            if offset >= elf["_end"][0] - elf["_text"][0]:
                line = ask(out, ["name %x" % (elf[fn][0] + 5)])[0]
                assert error_of(line) and error_of(line)[1] == "MD_ERR_LOOKUP", line
        yield f, case


def test_filtered_page_faults():
    """A page makedumpfile left out reads as MD_ERR_FAULT naming it; the unfiltered dumps have it."""
    for k in KERNELS:
        def case(k=k):
            filtered = dump(k, "baseline", "filtered")
            top = info(filtered)["mem_mib"] << 20
            candidates = list(range(top - (1 << 20), 16 << 20, -(1 << 20)))
            a = ask(filtered, ["pread %x 8" % p for p in candidates])
            missing = [(p, line) for p, line in zip(candidates, a) if error_of(line)]
            assert missing, "every candidate page is in the filtered dump"
            addr, line = missing[0]
            msg, code = error_of(line)
            assert code == "MD_ERR_FAULT", line
            assert "0x%x" % addr in msg and "physical" in msg and "not in the dump" in msg, line
            for f in ("elf", "kdump"):
                got = ask(dump(k, "baseline", f), ["pread %x 8" % addr])[0]
                assert not error_of(got), "%s dump lacks 0x%x too: %s" % (f, addr, got)
            # A read from a kept page into an excluded one names where it failed.
            pages = list(range(16 << 20, 80 << 20, 4096))
            a = ask(filtered, ["pread %x 8" % p for p in pages])
            edge = next((p for i, p in enumerate(pages[1:], 1) if error_of(a[i]) and not error_of(a[i - 1])), None)
            assert edge, "no kept page followed by an excluded one in 16..80 MiB"
            line = ask(filtered, ["pread %x 16" % (edge - 8)])[0]
            assert error_of(line) and error_of(line)[1] == "MD_ERR_FAULT", line
            assert "0x%x" % (edge - 8) in line and "at 0x%x" % edge in line, line
            # Kernel virtual: a non-canonical address.
            line = ask(filtered, ["read dead000000000000 8"])[0]
            assert error_of(line) and error_of(line)[1] == "MD_ERR_FAULT" and "0xdead000000000000" in line, line
        yield k, case


def fnv1a64(data):
    """target_probe's digest of bytes."""
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def vmlinux_btf(vmlinux):
    """The bytes of the vmlinux's .BTF section, which the kernel keeps in
    memory at [__start_BTF, __stop_BTF) (include/asm-generic/vmlinux.lds.h BTF)."""
    sections = elf_sections(vmlinux)
    assert ".BTF" in sections, "no .BTF section in %s" % vmlinux
    offset, size = sections[".BTF"]
    with open(vmlinux, "rb") as f:
        f.seek(offset)
        return f.read(size)


def test_large_reads():
    """Reads of megabytes from a kdump-compressed dump (once split among
    threads, d5ae061; one context again since libkdumpfile's shared page
    cache was found unsafe): the bytes are those of the ELF dump of the same
    moment, the kernel's BTF is the vmlinux's .BTF byte for byte, and a read
    that runs off the end of the kernel image's mapping (the page tables end
    within 2 MiB after _end: arch/x86/mm/init_64.c cleanup_highmap()) fails
    where the ELF read does."""
    for k in KERNELS:
        def case(k=k):
            kd, elf = dump(k, "baseline", "kdump"), dump(k, "baseline", "elf")
            start, stop, end = (int(l, 16) for l in ask(kd, ["sym __start_BTF", "sym __stop_BTF", "sym _end"]))
            off_end = end - (4 << 20) + 0x800
            cmds = ["digest %x %d" % (start, stop - start), "pdigest 1000000 %d" % (64 << 20),
                    "digest %x %d" % (off_end, 6 << 20)]
            a, b = ask(kd, cmds), ask(elf, cmds)
            assert a[0] == b[0] == fnv1a64(vmlinux_btf(os.path.join(kd, "vmlinux"))), (a[0], b[0])
            assert a[1] == b[1] and not error_of(a[1]), (a[1], b[1])
            at = [re.search(r": at 0x([0-9a-f]+): not mapped", l) for l in (a[2], b[2])]
            assert all(at) and at[0].group(1) == at[1].group(1), (a[2], b[2])
            assert end <= int(at[0].group(1), 16) <= end + (2 << 20), (a[2], "_end 0x%x" % end)
        yield k, case


def test_interrupt_flag():
    """interrupted() is false until SIGINT reaches the flag the program registered."""
    out = dump("6.1", "baseline", "filtered")
    build("build/target_probe")
    p = subprocess.Popen([PROBE, os.path.join(out, "vmlinux"), os.path.join(out, "vmcore")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        p.stdin.write("interrupted\n")
        p.stdin.flush()
        assert p.stdout.readline() == "no\n"
        p.send_signal(signal.SIGINT)
        time.sleep(0.2)
        stdout, stderr = p.communicate("interrupted\n", timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0 and stdout == "yes\n", (p.returncode, stdout, stderr)


# ----------------------------------------------------------------------------
# Refusals

def open_error(vmlinux, vmcore, binary=PROBE):
    p = run_probe(vmlinux, vmcore, binary=binary)
    assert p.returncode == 1, "exit status %d, stderr:\n%s" % (p.returncode, p.stderr)
    m = OPEN_ERROR.search(p.stderr)
    assert m, "no error line in:\n" + p.stderr
    return m.group(1), m.group(2)


def test_mismatch():
    """A vmlinux of the other kernel: MD_ERR_MISMATCH naming both releases."""
    for k, other in (("6.12", "6.1"), ("6.1", "6.12")):
        for f in FORMATS:
            def case(k=k, other=other, f=f):
                mine, theirs = dump(k, "baseline", "elf"), dump(other, "baseline", f)
                msg, code = open_error(os.path.join(mine, "vmlinux"), os.path.join(theirs, "vmcore"))
                assert code == "MD_ERR_MISMATCH", msg
                want = "vmlinux is %s but the dump is %s" % (info(mine)["kernel_release"],
                                                            info(theirs)["kernel_release"])
                assert want in msg, msg
            yield "%s-vmlinux/%s-%s" % (k, other, f), case


def test_same_release_other_build():
    """Same release, one byte of the banner changed: a different build, both banners named."""
    out = dump("6.12", "baseline", "elf")
    vmlinux = os.path.realpath(os.path.join(out, "vmlinux"))
    addr = elf_symbols(vmlinux)["linux_banner"][0]
    offset = None
    for line in subprocess.run(["readelf", "-SW", vmlinux], stdout=subprocess.PIPE, text=True).stdout.splitlines():
        m = re.match(r"^\s*\[\s*\d+\]\s+(\S+)\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m and int(m.group(2), 16) <= addr < int(m.group(2), 16) + int(m.group(4), 16):
            offset = int(m.group(3), 16) + addr - int(m.group(2), 16)
    assert offset is not None, "linux_banner in no section"
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "vmlinux")
        shutil.copyfile(vmlinux, copy)
        with open(copy, "r+b") as fh:
            fh.seek(offset)
            banner = fh.read(256).split(b"\0")[0]
            i = banner.index(b" #") + 2
            fh.seek(offset + i)
            fh.write(b"7" if banner[i:i + 1] != b"7" else b"8")
        msg, code = open_error(copy, os.path.join(out, "vmcore"))
    assert code == "MD_ERR_MISMATCH", msg
    assert "different builds of " + info(out)["kernel_release"] in msg, msg
    assert banner.decode().strip() in msg, msg


def test_not_a_dump():
    """Not a dump, not a vmlinux, no such file, arguments swapped: clear errors."""
    out = dump("6.1", "baseline", "elf")
    vmlinux, vmcore = os.path.join(out, "vmlinux"), os.path.join(out, "vmcore")
    readme = os.path.join(REPO, "README.md")
    msg, code = open_error(vmlinux, readme)
    assert code == "MD_ERR_FORMAT" and readme in msg and "is not a crash dump" in msg, msg
    msg, code = open_error(readme, vmcore)
    assert code == "MD_ERR_FORMAT" and readme in msg and "not an ELF file" in msg, msg
    msg, code = open_error(vmcore, vmcore)
    assert code == "MD_ERR_FORMAT" and "not a vmlinux" in msg, msg
    msg, code = open_error(vmlinux, "/nonexistent/vmcore")
    assert code == "MD_ERR_OS" and "No such file" in msg, msg


def test_vmlinux_without_btf_or_symbols():
    """objcopy's copies: without .BTF, the types come from its DWARF (issue
    17) and the answers are the same; without .symtab, MD_ERR_FORMAT saying
    so."""
    out = dump("6.12", "baseline", "elf")
    vmcore = os.path.join(out, "vmcore")
    questions = ["size struct page", "member struct kmem_cache oo.x", "enum MIGRATE_MOVABLE"]
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "vmlinux")
        subprocess.run(["objcopy", "--remove-section", ".BTF", os.path.join(out, "vmlinux"), copy], check=True)
        p = run_probe(copy, vmcore, questions)
        assert p.returncode == 0 and p.stdout.splitlines() == ask(out, questions), (p.stderr, p.stdout)
        os.unlink(copy)
        subprocess.run(["objcopy", "--strip-all", os.path.join(out, "vmlinux"), copy], check=True)
        msg, code = open_error(copy, vmcore)
        assert code == "MD_ERR_FORMAT" and "no symbol table" in msg, msg


def test_truncated_dump():
    """The first MiB of each format: MD_ERR_FORMAT saying truncated, not a fault later."""
    for f in FORMATS:
        def case(f=f):
            out = dump("6.1", "baseline", f)
            with tempfile.TemporaryDirectory() as tmp:
                cut = os.path.join(tmp, "vmcore")
                with open(os.path.join(out, "vmcore"), "rb") as src, open(cut, "wb") as dst:
                    dst.write(src.read(1 << 20))
                msg, code = open_error(os.path.join(out, "vmlinux"), cut)
            assert code == "MD_ERR_FORMAT" and cut in msg and "truncated" in msg, msg
        yield f, case


# ----------------------------------------------------------------------------
# Sanitizers (speed is measured by scripts/bench, as ratios against crash)

def test_sanitizers():
    """The probe built with ASan and UBSan: sessions and refusals report nothing."""
    cmds = (["size struct " + s for s in STRUCTS] + ["member struct %s %s" % tm for tm in MEMBERS] +
            ["enum " + e for e in ENUMERATORS] +
            ["sym init_task", "sym no_such", "name ffffffff81000005", "name 0", "vmcoreinfo OSRELEASE",
             "vmcoreinfo NOPE", "read ffffffff81000000 9000", "read dead000000000000 8", "pread 1f000000 8",
             "member struct kmem_cache oo.x", "member struct kmem_cache name.x", "bogus"])
    for k in KERNELS:
        for f in ("elf", "filtered"):
            def case(k=k, f=f):
                out = dump(k, "baseline", f)
                p = run_probe(os.path.join(out, "vmlinux"), os.path.join(out, "vmcore"), cmds, binary=ASAN_PROBE)
                assert p.returncode == 0 and len(p.stdout.splitlines()) == len(cmds), p.stderr[-3000:]
                assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr[-3000:]
                if f == "filtered":     # from the dump alone: its BTF read on threads
                    p = run_probe("-", os.path.join(out, "vmcore"), cmds + ["pdigest 1000000 %d" % (8 << 20)],
                                  binary=ASAN_PROBE)
                    assert p.returncode == 0 and len(p.stdout.splitlines()) == len(cmds) + 1, p.stderr[-3000:]
                    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr[-3000:]
                other = dump("6.1" if kernel_of(k) == "6.12" else "6.12", "baseline", f)
                for vmlinux, vmcore in ((os.path.join(other, "vmlinux"), os.path.join(out, "vmcore")),
                                        (os.path.join(out, "vmlinux"), os.path.join(REPO, "README.md")),
                                        (os.path.join(REPO, "README.md"), os.path.join(out, "vmcore"))):
                    p = run_probe(vmlinux, vmcore, binary=ASAN_PROBE)
                    assert p.returncode == 1 and OPEN_ERROR.search(p.stderr), p.stderr[-3000:]
                    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr[-3000:]
            yield "%s/%s" % (k, f), case
