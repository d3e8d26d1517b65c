"""Types from DWARF (lib/dwarf_types.c, issue 17) against BTF and pahole.

A vmlinux without BTF is read through its DWARF, and `--types dwarf` (or
MEMDIAG_TYPES=dwarf, in crash too) asks for it where there is BTF.  Three
oracles:
  - every question the core asks of a kernel's types (taken from recordings
    of every command), answered from BTF and from DWARF: the same answers,
    and those of pahole's own reading of either (`pahole -F btf|dwarf -C`);
  - every lab dump: the same --json from DWARF as from BTF, through
    `--types dwarf` and through a copy of the vmlinux whose .BTF section is
    hidden (`objcopy --rename-section .BTF=.BTF.hidden`; `--remove-section`
    fails, as __start_BTF refers to it);
  - the extension in crash with MEMDIAG_TYPES=dwarf: the same output.
"""

import concurrent.futures
import difflib
import os
import re
import struct
import subprocess

from lab import (EXTENSION, EXTENSION_COMMANDS, FORMATS, KERNEL_BUILDS, KERNELS, LAB_PLAN, REPO, Pahole, crash,
                 dump, elf_sections, extension_session, in_crash, kernel_of, made_once, recording)
from test_badinput import SANITIZER_REPORT
from test_dumponly import COMMANDS
from test_target import PROBE, build

MEMDIAG = os.path.join(REPO, "build", "memdiag")
ASAN_MEMDIAG = os.path.join(REPO, "build", "asan", "memdiag")
TYPES = os.path.join(REPO, "build", "types")
# Commands per dump compared in `make check`, turned round the dumps so that
# every command and both ways to DWARF meet every kernel line: all of
# COMMANDS on each of 165 dumps, twice, would add 15 minutes to a CI run
# (a DWARF start costs 0.2-0.3 s of CPU).  MEMDIAG_TEST_EVERY_COMMAND=1
# runs them all, both ways.
PER_DUMP = 4
EVERY_COMMAND = os.environ.get("MEMDIAG_TEST_EVERY_COMMAND") == "1"


def run(args, binary=MEMDIAG, env=None):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, **(env or {})), timeout=600)
    assert p.returncode >= 0, "memdiag died of signal %d:\n%s" % (-p.returncode, p.stderr[-3000:])
    assert not SANITIZER_REPORT.search(p.stderr), p.stderr[-3000:]
    return p


def vmlinux_of(kernel):
    return os.path.realpath(os.path.join(dump(kernel, "baseline"), "vmlinux"))


def derived_vmlinux(kernel, name, objcopy_args):
    """build/types/KERNEL/NAME: KERNEL's vmlinux through objcopy, made once."""
    src = vmlinux_of(kernel)
    path = os.path.join(TYPES, kernel, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with made_once(path):
        if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(src):
            subprocess.run(["objcopy"] + objcopy_args + [src, path + ".new"], check=True)
            os.rename(path + ".new", path)
    return path


def hidden_btf(kernel):
    """KERNEL's vmlinux with its .BTF section hidden: DWARF is its only
    source of types."""
    path = derived_vmlinux(kernel, "vmlinux-btf-hidden", ["--rename-section", ".BTF=.BTF.hidden"])
    names = set(elf_sections(path))
    assert ".BTF" not in names and ".BTF.hidden" in names and ".debug_info" in names, sorted(names)
    return path


# ---------------------------------------------------------------------------
# The questions the core asks, from recordings (cli/recording.h's format)

MAGIC = b"memdiag recording 1\n"
CHUNK_RECORD = 1 + 8 + 512 + 4096


def recorded_questions(path):
    """{("size", TYPE) | ("member", TYPE, MEMBER) | ("enum", NAME)} asked."""
    data, i, asked = open(path, "rb").read(), 0, set()
    while i < len(data):
        if data.startswith(MAGIC, i):
            i += len(MAGIC)
            continue
        kind, i = data[i:i + 1], i + 1
        if kind == b"C":
            i += CHUNK_RECORD
            continue
        assert kind == b"Q", "unknown record %r at byte %d of %s" % (kind, i - 1, path)
        op = chr(data[i])
        (n,) = struct.unpack_from("<I", data, i + 1)
        key = data[i + 5:i + 5 + n].decode()
        code = data[i + 5 + n]
        i += 6 + n
        if code or op in "VA":
            (n,) = struct.unpack_from("<I", data, i)
            i += 4 + n
        else:
            i += 24 if op == "M" else 8
        if op == "T":
            asked.add(("size", key))
        elif op == "M":
            asked.add(("member",) + tuple(key.split("\x1f")))
        elif op == "E":
            asked.add(("enum", key))
    return asked


def questions(kernel):
    """Every type question of every command (lab.REPLAY_COMMANDS) on the
    kernel's leak-tracked and oom dumps."""
    asked = set()
    for scenario in ("leak-tracked", "oom"):
        if scenario in LAB_PLAN[kernel]:
            asked |= recorded_questions(recording(dump(kernel, scenario)))
    return sorted(asked)


def probe_line(q):
    return {"size": "size %s", "member": "member %s %s", "enum": "enum %s"}[q[0]] % q[1:]


def answers(outdir, source, asked, vmlinux=None):
    """target_probe's answers with MEMDIAG_TYPES=source."""
    build("build/target_probe")
    p = subprocess.run([PROBE, vmlinux or os.path.join(outdir, "vmlinux"), os.path.join(outdir, "vmcore")],
                       input="".join(probe_line(q) + "\n" for q in asked), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=dict(os.environ, MEMDIAG_TYPES=source), timeout=300)
    assert p.returncode == 0, (source, p.stderr)
    lines = p.stdout.splitlines()
    assert len(lines) == len(asked), (source, len(lines), len(asked))
    return lines


# ---------------------------------------------------------------------------
# pahole's reading (lab.Pahole)

# Named enums that hold the enumerators the core asks for; pahole -C cannot
# name an anonymous enum's (MM_*, SWP_*, ...): those are BTF against DWARF
# only, as are those of the enums -F dwarf misses in a list (lab.Pahole).
ENUMS = ("oom_constraint", "migratetype", "zone_stat_item", "node_stat_item", "vm_event_item",
         "numa_stat_item", "writeback_stat_item", "pagetype", "pg_level", "pageflags", "zone_watermarks",
         "_slab_flag_bits", "cgroup_subsys_id", "memcg_stat_item", "lru_list", "zone_type")


def pahole_answers(vmlinux, fmt, asked):
    """{question: pahole's answer or None} for the sizes of structs and
    unions, members and named enums' enumerators."""
    pa, got = Pahole(vmlinux, fmt, enums=ENUMS), {}
    for q in asked:
        if q[0] == "member":
            got[q] = pa.member(q[1], q[2])
        elif q[0] == "size" and re.match(r"^(struct|union) ", q[1]):
            got[q] = pa.size(q[1])
        elif q[0] == "enum":
            got[q] = pa.enumerators.get(q[1])
    return got


def parsed(q, line):
    """An answer line of target_probe as pahole's: (bit_offset, bit_size,
    size), a size or a value; None for an error."""
    if line.startswith("error:"):
        return None
    if q[0] == "member":
        m = re.match(r"^offset=\d+ bit_offset=(\d+) bit_size=(\d+) size=(\d+)$", line)
        return tuple(int(x) for x in m.groups())
    return int(line)


def test_every_answer_of_btf_dwarf_and_pahole():
    """Every type size, member offset and enumerator the core asks of each
    kernel (275-290 questions): the same from BTF and DWARF, both found or
    both not; and where pahole can say (structs, unions, their members
    through anonymous and nested members, named enums), the same as
    pahole's reading of BTF and of DWARF."""
    for kernel in KERNEL_BUILDS:
        def case(kernel=kernel):
            out = dump(kernel, "leak-tracked")
            asked = questions(kernel)
            assert len(asked) > 200, len(asked)
            btf, dwarf = answers(out, "btf", asked), answers(out, "dwarf", asked)
            differ = ["%s: BTF %s, DWARF %s" % (probe_line(q), a, b) for q, a, b in zip(asked, btf, dwarf)
                      if a != b]
            assert not differ, "\n".join(differ)
            found = {q: parsed(q, a) for q, a in zip(asked, btf) if not a.startswith("error:")}
            assert sum(q[0] == "member" for q in found) > 150 and sum(q[0] == "enum" for q in found) > 30
            for fmt in ("btf", "dwarf"):
                pa = pahole_answers(vmlinux_of(kernel), fmt, list(found))
                checked = {q: v for q, v in pa.items() if v is not None}
                differ = ["%s: memdiag %s, pahole -F %s %s" % (probe_line(q), found[q], fmt, v)
                          for q, v in checked.items() if found[q] != v]
                assert not differ, "\n".join(differ)
                # every member and struct or union size; of the enumerators
                # those of named enums (pahole cannot name an anonymous one)
                unsaid = [q for q in found if q not in checked and
                          (q[0] == "member" or re.match(r"^size (struct|union) ", probe_line(q)))]
                assert not unsaid, "pahole -F %s says nothing of: %s" % (fmt, unsaid)
                enums = sum(q[0] == "enum" for q in found)
                assert sum(q[0] == "enum" for q in checked) >= (0.75 if fmt == "btf" else 0.5) * enums, \
                    (fmt, checked)
        yield kernel, case


# ---------------------------------------------------------------------------
# Every command on every lab dump

def lab_dumps():
    return [(line, scenario, f) for line in KERNELS for scenario in LAB_PLAN[line] for f in FORMATS]


def compare(out, hidden, command, dwarf_way):
    vmlinux, vmcore = os.path.join(out, "vmlinux"), os.path.join(out, "vmcore")
    a = run(["--json", vmlinux, vmcore] + command.split())
    if dwarf_way == "--types dwarf":
        b = run(["--json", "--types", "dwarf", vmlinux, vmcore] + command.split())
    else:
        b = run(["--json", hidden, vmcore] + command.split())
    b_err = b.stderr.replace(hidden, vmlinux)
    assert (b.returncode, b.stdout) == (a.returncode, a.stdout), \
        "%s: BTF (rc %d) and DWARF through %s (rc %d) differ:\n%s\n%s\n%s" % (
            command, a.returncode, dwarf_way, b.returncode, a.stderr[-1500:], b.stderr[-1500:],
            "".join(list(difflib.unified_diff(a.stdout.splitlines(True), b.stdout.splitlines(True),
                                              "BTF", "DWARF"))[:80]))
    assert a.returncode == 0 or a.stderr == b_err, (a.stderr, b.stderr)
    return command


def test_dwarf_output_is_btf_output():
    """Every lab dump, every kernel line and format: --json from DWARF
    types, through `--types dwarf` or through the vmlinux whose .BTF is
    hidden, is byte for byte the output from BTF (PER_DUMP commands a
    dump in turn, or all of them both ways with EVERY_COMMAND)."""
    for i, (line, scenario, f) in enumerate(lab_dumps()):
        def case(i=i, line=line, scenario=scenario, f=f):
            out = dump(line, scenario, f)
            hidden = hidden_btf(kernel_of(line))
            if EVERY_COMMAND:
                work = [(c, way) for c in COMMANDS for way in ("--types dwarf", "hidden .BTF")]
            else:
                work = [(COMMANDS[(i * PER_DUMP + k) % len(COMMANDS)],
                         ("--types dwarf", "hidden .BTF")[(i + k) % 2]) for k in range(PER_DUMP)]
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda w: compare(out, hidden, *w), work))
        yield "%s/%s/%s" % (line, scenario, f), case


def test_every_command_meets_dwarf_on_every_line():
    """The turning of test_dwarf_output_is_btf_output covers, on every
    kernel line, every command each way to DWARF."""
    dumps = lab_dumps()
    for line in KERNELS:
        seen = set()
        for i, d in enumerate(dumps):
            if d[0] == line:
                seen |= {(COMMANDS[(i * PER_DUMP + k) % len(COMMANDS)], (i + k) % 2) for k in range(PER_DUMP)}
        assert {c for c, _ in seen} == set(COMMANDS), (line, set(COMMANDS) - {c for c, _ in seen})
        assert {w for _, w in seen} == {0, 1}, line


# ---------------------------------------------------------------------------
# Choosing the source, and bad input

def test_sources_and_their_messages():
    """--types and MEMDIAG_TYPES choose; a wrong choice is named, with the
    usage exit status 2; a vmlinux without BTF is read through its DWARF
    unasked, and `--types btf` on it says what it lacks."""
    kernel = KERNEL_BUILDS[-1]
    out = dump(kernel, "baseline")
    vmlinux, vmcore, hidden = os.path.join(out, "vmlinux"), os.path.join(out, "vmcore"), hidden_btf(kernel)
    base = run([vmlinux, vmcore, "buddyfrag"])
    assert base.returncode == 0, base.stderr
    for args, env in (([hidden, vmcore], None), (["--types", "dwarf", vmlinux, vmcore], None),
                      ([vmlinux, vmcore], {"MEMDIAG_TYPES": "dwarf"}), (["--types", "auto", hidden, vmcore], None)):
        p = run(args + ["buddyfrag"], env=env)
        assert (p.returncode, p.stdout) == (0, base.stdout), (args, env, p.stderr)
    p = run(["--types", "btf", hidden, vmcore, "buddyfrag"])
    assert p.returncode == 1 and not p.stdout and "no .BTF section" in p.stderr and \
        "--types dwarf" in p.stderr, p.stderr
    for args, env, words in ((["--types", "gdb", vmlinux, vmcore], None, ("--types", "'gdb'", "btf, dwarf")),
                             ([vmlinux, vmcore], {"MEMDIAG_TYPES": "DWARF"}, ("MEMDIAG_TYPES", "'DWARF'")),
                             (["--types", "dwarf", vmcore], None, ("DWARF", "vmlinux"))):
        p = run(args + ["buddyfrag"], env=env)
        assert p.returncode == 2 and not p.stdout and len(p.stderr.splitlines()) == 1, (args, p.stderr)
        for w in words:
            assert w in p.stderr, (args, w, p.stderr)


def test_a_vmlinux_without_types():
    """A vmlinux with neither BTF nor DWARF (`objcopy --strip-debug` of the
    copy without .BTF): named as such, with what to give instead."""
    kernel = KERNEL_BUILDS[0]
    out = dump(kernel, "baseline")
    bare = derived_vmlinux(kernel, "vmlinux-no-types", ["--strip-debug", "--rename-section", ".BTF=.BTF.hidden"])
    assert not {".BTF", ".debug_info"} & set(elf_sections(bare))
    for args in ([bare], ["--types", "dwarf", bare]):
        p = run(args + [os.path.join(out, "vmcore"), "buddyfrag"])
        assert p.returncode == 1 and not p.stdout, (args, p.returncode, p.stdout[:300])
        assert "no .debug_info" in p.stderr or "neither BTF" in p.stderr, p.stderr
        assert bare in p.stderr and len(p.stderr.splitlines()) == 1, p.stderr


DAMAGE = {
    # the abbreviations of every unit: the scan cannot read them, libdw neither
    "abbreviations zeroed": (".debug_abbrev", 0, b"\0" * 4096),
    # a unit's DIEs made nonsense halfway through .debug_info
    "DIEs of a unit overwritten": (".debug_info", 0.5, b"\xff" * 65536),
    # the first unit's length made longer than the section
    "a unit's length too long": (".debug_info", 0, b"\xf0\xff\xff\x7f"),
}


def test_damaged_dwarf_is_said():
    """A copy of the vmlinux (BTF hidden) with its DWARF damaged three ways,
    under ASan: a clear message naming the file and the damage, or answers;
    never a crash, a hang or a sanitizer report."""
    kernel = KERNEL_BUILDS[-1]
    out = dump(kernel, "baseline")
    src = hidden_btf(kernel)
    for what, (section, where, data) in DAMAGE.items():
        def case(what=what, section=section, where=where, data=data):
            path = os.path.join(TYPES, kernel, "damaged-" + os.environ.get("MEMDIAG_TEST_WORKER", "0"))
            subprocess.run(["cp", "--reflink=auto", src, path], check=True)
            try:
                off, size = elf_sections(path)[section]
                with open(path, "r+b") as f:
                    f.seek(off + int(size * where))
                    f.write(data)
                p = run([path, os.path.join(out, "vmcore"), "slableak"], binary=ASAN_MEMDIAG)
                assert p.returncode in (0, 1), (what, p.returncode, p.stderr[-2000:])
                if p.returncode == 1 and not p.stdout:
                    assert "DWARF" in p.stderr and path in p.stderr, (what, p.stderr)
                else:
                    assert p.stdout, (what, p.stderr)
            finally:
                os.unlink(path)
        yield what, case


# ---------------------------------------------------------------------------
# The extension

def test_extension_with_dwarf_types():
    """memdiag.so in crash 8.0.2 with MEMDIAG_TYPES=dwarf: each of the
    extension's commands prints what it prints with BTF types."""
    import shutil
    import tempfile
    for kernel in KERNEL_BUILDS:
        def case(kernel=kernel):
            out = dump(kernel, "leak-tracked")
            btf, _ = extension_session(out)
            tmp = tempfile.mkdtemp(prefix="memdiag-crash-")
            try:
                files = [os.path.join(tmp, "%d.out" % i) for i in range(len(EXTENSION_COMMANDS))]
                session = crash(out, ["extend " + EXTENSION] + ["%s > %s" % (in_crash(c), f) for c, f in
                                                                  zip(EXTENSION_COMMANDS, files)],
                                env={"MEMDIAG_TYPES": "dwarf"})
                for c, f in zip(EXTENSION_COMMANDS, files):
                    got = open(f).read() if os.path.exists(f) else ""
                    assert got == btf[c], "%s: with DWARF types\n%s\n%s" % (c, session[-2000:], "".join(
                        list(difflib.unified_diff(btf[c].splitlines(True), got.splitlines(True), "BTF",
                                                  "DWARF"))[:60]))
                assert "using gdb's types" not in session, session[-2000:]
            finally:
                shutil.rmtree(tmp)
        yield kernel, case
