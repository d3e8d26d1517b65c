"""Helpers shared by the tests: lab dumps and the peer tools run on them."""

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
MKVMCORE = os.path.join(REPO, "scripts", "mkvmcore")
LAB = os.path.join(REPO, "build", "lab")
EXTENSION = os.path.join(REPO, "build", "memdiag.so")


@contextlib.contextmanager
def made_once(path):
    """Held while one test process makes path (tests/run -j runs test files
    in several): another that needs it waits, then finds it made."""
    fd = os.open(path + ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class KnownGap(Exception):
    """Raised by a case memdiag cannot pass yet, for the reason given (an
    open issue): tests/run reports it as a gap, counts it as skipped, never
    as passed."""


def lab_plan():
    """{kernel line: (scenarios)} that `make lab` makes dumps of: the
    Makefile's LAB_KERNELS and LAB_SCENARIOS[_<line>] (`make check` passes
    them as MEMDIAG_LAB, `make lab-plan` prints them), never literals here."""
    plan = os.environ.get("MEMDIAG_LAB")
    if not plan:
        plan = subprocess.run(["make", "-s", "-C", REPO, "lab-plan"], stdout=subprocess.PIPE, text=True,
                              check=True).stdout
    return {k: tuple(s.split(",")) for k, s in (item.split(":", 1) for item in plan.split())}


def lab_kernels():
    return tuple(LAB_PLAN)


def kernel_of(line):
    """The kernel of a lab line: "KERNEL", or "KERNEL-la57" for that kernel
    booted with 5-level page tables (the Makefile's lab_args)."""
    kernel, _, variant = line.partition("-")
    assert variant in ("", "la57"), "unknown lab line " + line
    return kernel


def mkvmcore_args(line):
    """scripts/mkvmcore's options for a lab line."""
    return ["--kernel", kernel_of(line)] + (["--la57"] if line.endswith("-la57") else [])


class NotInLab(Exception):
    """Raised by dump() for a scenario the lab does not make on that kernel
    line (LAB_SCENARIOS_<line>): tests/run counts the case as not applicable."""


LAB_PLAN = lab_plan()
KERNELS = lab_kernels()
# The lines whose vmlinux differs: tests of types and symbols need no other.
KERNEL_BUILDS = tuple(k for k in KERNELS if "-" not in k)
FORMATS = ("elf", "kdump", "filtered")
LEAK_N = 20000  # testdata/scenarios/leak-*/README: objects the module leaks


def mkvmcore(*args, env=None, check=True):
    """Run scripts/mkvmcore; returns the CompletedProcess (text)."""
    p = subprocess.run([MKVMCORE] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=dict(os.environ, **(env or {})))
    if check and p.returncode != 0:
        raise AssertionError("mkvmcore %s failed:\n%s" % (" ".join(args), p.stderr))
    return p


def dump(kernel, scenario, fmt="elf"):
    """OUTDIR of a lab dump (build/lab/KERNEL/SCENARIO/FORMAT), made if missing."""
    if kernel in LAB_PLAN and scenario not in LAB_PLAN[kernel]:
        raise NotInLab("the lab makes no %s dump of %s" % (scenario, kernel))
    out = os.path.join(LAB, kernel, scenario, fmt)
    if not _published(out):
        mkvmcore(*mkvmcore_args(kernel), "--format", fmt, scenario, out)
    return out


def _published(out):
    """Whether out holds a dump whose links still point into the cache
    (another MEMDIAG_CACHE, or an emptied one, leaves them dangling), and
    whose copies (the guest's /proc captures, its console) are of the boot
    the vmcore link reaches: another cache put where the links lead (a new
    ~/.cache/memdiag) keeps them resolving, to another boot's dump."""
    if not all(os.path.exists(os.path.join(out, f)) for f in ("info.json", "vmcore", "vmlinux")):
        return False
    cached = os.path.join(os.path.dirname(os.path.realpath(os.path.join(out, "vmcore"))), "console.log")
    copy = os.path.join(out, "console.log")
    return not os.path.exists(cached) or not os.path.exists(copy) or \
        open(cached, "rb").read() == open(copy, "rb").read()


def kaslr_dump(kernel, fmt="elf"):
    """OUTDIR of the baseline scenario booted with KASLR on
    (build/lab/KERNEL/baseline-kaslr/FORMAT), made if missing."""
    out = os.path.join(LAB, kernel, "baseline-kaslr", fmt)
    if not _published(out):
        mkvmcore("--kaslr", *mkvmcore_args(kernel), "--format", fmt, "baseline", out)
    assert info(out)["kaslr"] is True, out
    return out


def info(outdir):
    return json.load(open(os.path.join(outdir, "info.json")))


def proc(outdir, name):
    return open(os.path.join(outdir, "proc", name)).read()


def frozen(outdir, name):
    """A view the lab's mdfreeze module printed at the dumped instant itself,
    with every CPU stopped (buddyinfo, pagetypeinfo): exact oracles, where the
    /proc captures taken a moment before the dump drift."""
    return open(os.path.join(outdir, "frozen", name)).read()


def meminfo(outdir):
    """The guest's captured /proc/meminfo as {field: kB}."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^(\S+):\s+(\d+)", proc(outdir, "meminfo"), re.M)}


def slabinfo(outdir):
    """The guest's captured /proc/slabinfo as {name: (active_objs, num_objs, objsize)}."""
    rows = {}
    for line in proc(outdir, "slabinfo").splitlines()[2:]:
        f = line.split()
        rows[f[0]] = (int(f[1]), int(f[2]), int(f[3]))
    return rows


STARTED = 0x4d4453


@functools.lru_cache(None)
def crash_malloc0():
    """tests/crash_malloc0.c built: crash 8.0.2 runs with it preloaded."""
    so = os.path.join(REPO, "build", "tests", "crash_malloc0.so")
    os.makedirs(os.path.dirname(so), exist_ok=True)
    tmp = "%s.%d" % (so, os.getpid())  # renamed into place: another process may be loading it
    p = subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", tmp, os.path.join(REPO, "tests", "crash_malloc0.c")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, "building crash_malloc0.so failed:\n" + p.stdout
    os.rename(tmp, so)
    return so


def kernel_line(outdir):
    """(major, minor) of a lab dump's kernel release, for what a peer can do on it."""
    return tuple(map(int, info(outdir)["kernel_release"].split(".")[:2]))


def crash_needs_no_modules(outdir):
    """crash 8.0.2 cannot load the module list of 6.4+ (struct module's
    layout changed: "invalid structure member offset: module_core_size")."""
    return kernel_line(outdir) >= (6, 4)


def crash_needs_no_kmem_cache(outdir):
    """crash 8.0.2 cannot start on 7.x at all unless told not to read the slab
    caches ("invalid structure member offset: kmem_cache_s_num": SLUB's
    per-CPU slabs became sheaves); with --no_kmem_cache it starts."""
    return kernel_line(outdir) >= (7, 0)


def crash_802_is_an_oracle(outdir):
    """Where crash 8.0.2 counts right and its gdb is sound: kernels before
    6.2 (on 6.2+ it corrupts its own heap at start-up, README "Tests")."""
    return kernel_line(outdir) < (6, 2)


def crash(outdir, commands, env=None):
    """Run crash 8.0.2 in batch mode on a lab dump; returns its output.
    env: extra environment variables (e.g. MEMDIAG_TYPES=gdb).

    crash 8.0.2 cannot load 6.12's module list ("invalid structure member
    offset: module_core_size", the layout changed in 6.4): --no_modules there.
    It runs with tests/crash_malloc0.c preloaded: on 6.12 it otherwise reads
    8 KiB NMI stacks into a malloc(0) block at start-up and goes on with a
    corrupt heap.  When crash ends on a signal, the output ends with a line
    saying so (its buffered output is lost then).
    """
    # crash's own `eval` of STARTED, run first, shows that crash got through
    # its start-up; its 4 lines are taken out of what is returned.
    with tempfile.NamedTemporaryFile("w", suffix=".crash", delete=False) as f:
        f.write("eval %#x\n" % STARTED + "\n".join(commands) + "\nquit\n")
    try:
        extra = ["--no_modules"] if crash_needs_no_modules(outdir) else []
        extra += ["--no_kmem_cache"] if crash_needs_no_kmem_cache(outdir) else []
        p = subprocess.run(["crash", "-s"] + extra + ["-i", f.name, os.path.join(outdir, "vmlinux"),
                           os.path.join(outdir, "vmcore")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, timeout=300,
                           env=dict(os.environ, LD_PRELOAD=crash_malloc0(), **(env or {})))
        # The marker prints 4 lines: hexadecimal, decimal, octal, binary.
        lines = p.stdout.split("\n")
        at = next((i for i, l in enumerate(lines) if re.match(r"^hexadecimal: %x\b" % STARTED, l)), None)
        out = p.stdout if at is None else "\n".join(lines[:at] + lines[at + 4:])
        if p.returncode < 0:
            out += "\n[crash ended on signal %d%s]\n" % (
                -p.returncode, "" if at is not None else ", before it got through its start-up")
        return out
    finally:
        os.unlink(f.name)


def crash_kmem_s(outdir, cache=None):
    """crash's `kmem -s [CACHE]` as {name: (allocated, total, slabs)}."""
    return parse_kmem_s(crash(outdir, ["kmem -s" + (" " + cache if cache else "")]))


def crash_stopped_on_excluded_page(outdir, text):
    """Whether crash stopped at start-up on a page missing from the dump.

    makedumpfile 1.7.2 leaves some in-use slab pages of 6.12 out of a
    filtered dump (about 40 in a 512 MiB guest; it predates 6.10's
    page_type slabs).  When crash 8.0.2 needs one of them while starting it
    stops ("crash: page excluded: ... type: \"xa_node.slots[off]\"" was
    seen), and nothing can be compared with it on that dump.  Only then,
    this checks that the dump really lacks slab pages, by memdiag's own
    report of them, and returns True.
    """
    if not re.search(r"^crash: page excluded: ", text, re.M):
        return False
    meta = info(outdir)
    assert meta["format"] == "filtered", "crash met an excluded page in a %s dump:\n%s" % (meta["format"], text)
    p = subprocess.run([os.path.join(REPO, "build", "memdiag"), os.path.join(outdir, "vmlinux"),
                        os.path.join(outdir, "vmcore"), "slableak", "--wide"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    assert re.search(r"^  ! \S+: slab 0x[0-9a-f]+ .*excluded by makedumpfile$", p.stdout, re.M), \
        "crash stopped on an excluded page, but memdiag saw no excluded slab page:\n" + text
    return True


KMEM_S_ROW = re.compile(r"^([0-9a-f]{16})\s+(\d+)\s+(-?\d+)\s+(\d+)\s+(\d+)\s+\d+k\s+(\S+)\s*$")


def parse_kmem_s(text):
    rows = {}
    for line in text.splitlines():
        m = KMEM_S_ROW.match(line)
        if m:
            rows[m.group(6)] = (int(m.group(3)), int(m.group(4)), int(m.group(5)))
    return rows


def parse_kmem_s_by_address(text):
    """{kmem_cache address: (name, (allocated, total, slabs))}"""
    rows = {}
    for line in text.splitlines():
        m = KMEM_S_ROW.match(line)
        if m:
            rows[int(m.group(1), 16)] = (m.group(6), (int(m.group(3)), int(m.group(4)), int(m.group(5))))
    return rows


PEER = os.path.join(REPO, "scripts", "peer")


def _fresh(path, outdir):
    """Whether a peer's answer kept beside a dump's link is of the dump the
    link points at now (another cache's dump may be older than the answer)."""
    vmcore = os.path.realpath(os.path.join(outdir, "vmcore"))
    try:
        return open(path + ".dump").read() == vmcore and os.path.getmtime(path) > os.path.getmtime(vmcore)
    except OSError:
        return False


def _keep(path, outdir):
    """Makes path + ".new" the peer's answer for the dump outdir's link points at."""
    with open(path + ".dump", "w") as f:
        f.write(os.path.realpath(os.path.join(outdir, "vmcore")))
    os.rename(path + ".new", path)


def peer_crash(outdir, commands, timeout=600):
    """crash 9.0.2 (scripts/peer, the lab's sid chroot) run once over COMMANDS
    on a lab dump; returns its output.  It starts on every lab kernel, but on
    7.x only without the module list ("invalid structure member offset:
    module_num_gpl_syms"): --no_modules there, as for crash 8.0.2 on 6.4+."""
    with tempfile.NamedTemporaryFile("w", suffix=".crash", delete=False, dir="/tmp") as f:
        f.write("\n".join(commands) + "\nquit\n")
    os.chmod(f.name, 0o644)
    try:
        extra = ["--no_modules"] if kernel_line(outdir) >= (7, 0) else []
        p = subprocess.run([PEER, "crash", "-s"] + extra + ["-i", f.name,
                            os.path.realpath(os.path.join(outdir, "vmlinux")),
                            os.path.realpath(os.path.join(outdir, "vmcore"))],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           text=True, timeout=timeout)
        return p.stdout + ("\n[crash 9.0.2 ended on signal %d]\n" % -p.returncode if p.returncode < 0 else "")
    finally:
        os.unlink(f.name)


def peer_kmem_s(outdir):
    """crash 9.0.2's `kmem -s` of a dump as {address: (name, (allocated, total, slabs))},
    {} where it cannot walk this kernel's slabs (7.x: "invalid structure
    member offset: kmem_cache_local_node").  Kept beside the dump's link."""
    path = os.path.join(outdir, "crash-9-kmem-s.txt")
    with made_once(path):
        if not _fresh(path, outdir):
            text = peer_crash(outdir, ["kmem -s"])
            with open(path + ".new", "w") as f:
                f.write(text)
            _keep(path, outdir)
    text = open(path).read()
    rows = parse_kmem_s_by_address(text)
    if re.search(r"^kmem: invalid structure member offset: ", text, re.M):
        return {}
    assert len(rows) > 100, "crash 9.0.2 listed only %d caches:\n%s" % (len(rows), text[-3000:])
    return rows


def drgn_slab_walk(outdir):
    """drgn 0.3.0's exact object walk of every cache (tests/peers/drgn_slab_walk.py)
    as {name: {"address", "allocated", "total", "slabs"}}.  Kept beside the dump's link."""
    path = os.path.join(outdir, "drgn-slab-walk.json")
    with made_once(path):
        if not _fresh(path, outdir) or "address" not in next(iter(json.load(open(path)).values())):
            p = subprocess.run([PEER, "drgn", "-q", "-c", os.path.realpath(os.path.join(outdir, "vmcore")),
                                "-s", os.path.realpath(os.path.join(outdir, "vmlinux")),
                                os.path.join(REPO, "tests", "peers", "drgn_slab_walk.py"), path + ".new"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
            assert p.returncode == 0, "drgn failed:\n" + p.stdout[-3000:]
            _keep(path, outdir)
    return json.load(open(path))


def crash_outputs(outdir, commands):
    """crash's output of each command, in one session (each redirected to a
    file: crash's own and gdb's output interleave on a pipe)."""
    tmp = tempfile.mkdtemp(prefix="memdiag-crash-")
    try:
        files = [os.path.join(tmp, "%d.out" % i) for i in range(len(commands))]
        crash(outdir, ["%s > %s" % (c, f) for c, f in zip(commands, files)])
        return [open(f).read() if os.path.exists(f) else "" for f in files]
    finally:
        import shutil
        shutil.rmtree(tmp)


# whatis of addresses every kernel has: symbols, and the pointers stored at
# some (a kmem_cache, node 0's pglist_data, CPU 0's per-CPU area).
WHATIS_LINE = "whatis init_task jiffies *slab_caches *node_data *__per_cpu_offset"


# The extension's commands the tests compare with the standalone program.
# They run in one crash session per dump and crash version (a crash start-up
# costs 5-30 s; the commands, well under a second each).
EXTENSION_COMMANDS = ("memdiag", "slableak --wide", "slableak kmalloc-128", "slableak -u kmalloc-128",
                      "buddyfrag", "oomstate", "vmalloc",
                      WHATIS_LINE)
# memdiag.so registers a command whose name crash already has as "md" + name.
CRASH_HAS_ITS_OWN = ("whatis",)


def in_crash(command):
    """The extension's name for a command line (crash's own whatis: mdwhatis)."""
    word, _, rest = command.partition(" ")
    return ("md" + word if word in CRASH_HAS_ITS_OWN else word) + (" " + rest if rest else "")


# crash 8.0.2's own commands that the same session runs first, before
# `extend`, where crash can walk the slab caches (test_lab's oracles).
CRASH_OWN_COMMANDS = ("kmem -s kmalloc-128",)
CRASHES = ("8.0.2", "9.0.2")
_extension_sessions = {}


def extension_session(outdir, version="8.0.2"):
    """memdiag.so loaded in crash VERSION (8.0.2: Debian 12's; 9.0.2: the
    lab's sid chroot) on a lab dump, every EXTENSION_COMMANDS run once
    (in 8.0.2 after CRASH_OWN_COMMANDS): one crash start-up per dump.
    Returns ({command: its output}, crash's own output).  Each command
    writes to a file through crash's redirection: on a pipe, crash's and
    gdb's own messages can land between its lines."""
    key = (os.path.realpath(outdir), version)
    if key in _extension_sessions:
        return _extension_sessions[key]
    # Kept in tests/run's directory for this run, which its workers share.
    shared = os.environ.get("MEMDIAG_TEST_SHARED")
    if shared:
        shared = os.path.join(shared, "session-%s.json" % hashlib.sha1(repr(key).encode()).hexdigest())
    with made_once(shared) if shared else contextlib.nullcontext():
        if shared and os.path.exists(shared):
            _extension_sessions[key] = tuple(json.load(open(shared)))
            return _extension_sessions[key]
        tmp = tempfile.mkdtemp(prefix="memdiag-crash-", dir="/tmp")
        try:
            own = CRASH_OWN_COMMANDS if version == "8.0.2" and not crash_needs_no_kmem_cache(outdir) else ()
            run = own + ("extend " + EXTENSION,) + EXTENSION_COMMANDS
            files = [os.path.join(tmp, "%d.out" % i) for i in range(len(run))]
            commands = [c if c.startswith("extend ") else "%s > %s" % (in_crash(c), f) for c, f in zip(run, files)]
            session = crash(outdir, commands) if version == "8.0.2" else peer_crash(outdir, commands)
            outputs = {c: open(f).read() if os.path.exists(f) else "" for c, f in zip(run, files)
                       if not c.startswith("extend ")}
        finally:
            import shutil
            shutil.rmtree(tmp)
        _extension_sessions[key] = (outputs, session)
        if shared:
            with open(shared + ".new", "w") as f:
                json.dump([outputs, session], f)
            os.rename(shared + ".new", shared)
    return _extension_sessions[key]


def crash_extension(outdir, command, env=None):
    """memdiag.so's output of COMMAND in crash, and crash's own output.

    The command writes to a file through crash's redirection: on a pipe,
    crash's and gdb's own messages can land between its lines.  Returns
    (command output, crash's output, for messages and start-up failures).
    """
    if env is None and command in EXTENSION_COMMANDS:
        outputs, session = extension_session(outdir)
        return outputs[command], session
    tmp = tempfile.mkdtemp(prefix="memdiag-crash-")
    try:
        path = os.path.join(tmp, "out")
        session = crash(outdir, ["extend " + EXTENSION, "%s > %s" % (in_crash(command), path)], env=env)
        return (open(path).read() if os.path.exists(path) else ""), session
    finally:
        import shutil
        shutil.rmtree(tmp)


DIRECT_MAP = 0xffff888000000000  # x86-64 page_offset_base without KASLR


def dump_copy(outdir, name):
    """A writable copy of a lab dump's vmcore in build/lab/corrupt/NAME, with
    its vmlinux and info.json: (OUTDIR, path of the copy)."""
    import shutil
    src = os.path.join(outdir, "vmcore")
    # One copy at a time in each of tests/run's workers (each case makes and
    # uses its own): the suite makes dozens, 512 MiB each, which would fill
    # a CI machine's disk.
    corrupt = os.path.join(LAB, "corrupt", "worker-" + os.environ.get("MEMDIAG_TEST_WORKER", "0"))
    dst_dir = os.path.join(corrupt, name)
    for other in os.listdir(corrupt) if os.path.isdir(corrupt) else ():
        if other != name:
            shutil.rmtree(os.path.join(corrupt, other), ignore_errors=True)
    os.makedirs(dst_dir, exist_ok=True)
    dst = os.path.join(dst_dir, "vmcore")
    if os.path.exists(dst):
        os.chmod(dst, 0o644)
        os.unlink(dst)
    shutil.copyfile(src, dst)
    for link in ("vmlinux", "info.json"):
        if os.path.lexists(os.path.join(dst_dir, link)):
            os.unlink(os.path.join(dst_dir, link))
    os.symlink(os.path.realpath(os.path.join(outdir, "vmlinux")), os.path.join(dst_dir, "vmlinux"))
    shutil.copy(os.path.join(outdir, "info.json"), dst_dir)
    return dst_dir, dst


def elf_loads(f):
    """An ELF dump's PT_LOAD headers, from an open file: [(paddr, filesz, offset)]."""
    import struct
    f.seek(0)
    ehdr = f.read(64)
    assert ehdr[:4] == b"\x7fELF", "not an ELF dump"
    phoff, = struct.unpack_from("<Q", ehdr, 32)
    phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
    f.seek(phoff)
    loads = []
    for _ in range(phnum):
        p_type, _, p_offset, _, p_paddr, p_filesz = struct.unpack("<IIQQQQ", f.read(phentsize)[:40])
        if p_type == 1:
            loads.append((p_paddr, p_filesz, p_offset))
    return loads


def patched_copy(outdir, name, patches):
    """A copy of an ELF lab dump (nokaslr) with bytes patched at direct-map
    kernel virtual addresses: [(vaddr, bytes)].  Returns its OUTDIR."""
    dst_dir, dst = dump_copy(outdir, name)
    with open(dst, "r+b") as f:
        loads = elf_loads(f)
        for vaddr, data in patches:
            phys = vaddr - DIRECT_MAP
            off = [o + phys - pa for pa, sz, o in loads if pa <= phys < pa + sz]
            assert off, "0x%x is not in the dump" % vaddr
            f.seek(off[0])
            f.write(data)
    return dst_dir


def task_lost_to_the_filter(outdir, oomstate_doc, pid):
    """Whether process pid is missing from memdiag's task walk (oomstate
    --json), or its counters are, because makedumpfile 1.7.2 left task
    pages out of a filtered dump (on some boots of 6.1 and 6.12: task_struct
    slab pages, and the task list may then break twice, losing the tasks
    between; on 7.2 the hog's mm_struct page).  A process
    may be missing only so, and memdiag must have said so."""
    procs = [p for p in oomstate_doc["processes"] if p["pid"] == pid]
    if procs and procs[0]["rss_pages"] is not None:
        return False
    what = "missing from" if not procs else "with an unreadable mm in"
    assert info(outdir)["format"] == "filtered", "pid %d %s an unfiltered dump" % (pid, what)
    if procs:   # on 7.x the mm_struct's slab page was seen left out too
        assert procs[0]["not_eligible"] == "mm unreadable", procs[0]
        assert any(e.startswith("pid %d (" % pid) and "excluded by makedumpfile" in e
                   for e in oomstate_doc["errors"]), oomstate_doc["errors"]
    assert any("excluded by makedumpfile" in e for e in oomstate_doc["errors"]), oomstate_doc["errors"]
    return True


def excluded_copy(outdir, name, vaddrs):
    """A copy of a kdump-compressed lab dump (nokaslr) from which the pages
    holding these direct-map addresses are left out, as makedumpfile leaves
    out a page it filters: its bit in the second (dumped) bitmap is cleared
    and its page descriptor removed, so that every later page keeps its data.
    Returns its OUTDIR."""
    import struct
    dst_dir, dst = dump_copy(outdir, name)
    with open(dst, "r+b") as f:
        hdr = f.read(464)
        assert hdr[:8] == b"KDUMP   ", "not a kdump-compressed dump"
        # makedumpfile's struct disk_dump_header
        block_size, sub_hdr_size, bitmap_blocks, max_mapnr = struct.unpack_from("<iiII", hdr, 428)
        bitmap_at = (1 + sub_hdr_size) * block_size
        half = bitmap_blocks * block_size // 2
        f.seek(bitmap_at + half)
        dumped = bytearray(f.read(half))
        descs_at = bitmap_at + bitmap_blocks * block_size
        pfns = sorted({(v - DIRECT_MAP) >> 12 for v in vaddrs})
        # a page's descriptor is found by the number of dumped pages before it
        rank, ranks = 0, {}
        for pfn in range(max(pfns) + 1):
            if dumped[pfn >> 3] & (1 << (pfn & 7)):
                ranks[pfn] = rank
                rank += 1
        total = sum(bin(b).count("1") for b in dumped)
        f.seek(descs_at)
        descs = bytearray(f.read(total * 24))
        for pfn in reversed(pfns):
            assert pfn in ranks, "pfn 0x%x is not in the dump" % pfn
            dumped[pfn >> 3] &= ~(1 << (pfn & 7)) & 0xff
            del descs[ranks[pfn] * 24:ranks[pfn] * 24 + 24]
        f.seek(bitmap_at + half)
        f.write(dumped)
        f.seek(descs_at)
        f.write(descs)
    return dst_dir


# The dump-free tier (cli/recording.h, tests/replay.c): each command below
# run once on a lab dump with --record, the answers kept in one recording
# that the replay serves with no dump.  Made fresh by each test session,
# since what the commands read changes with the code.
REPLAY = os.path.join(REPO, "build", "memdiag-replay")
ASAN_REPLAY = os.path.join(REPO, "build", "asan", "memdiag-replay")
REPLAY_COMMANDS = ("memdiag", "memdiag -s", "slableak", "slableak -l", "slableak kmalloc-128",
                   "slableak -u", "buddyfrag", "oomstate", "vmalloc", "snapshot", WHATIS_LINE)
RECORDINGS = os.path.join(REPO, "build", "replay")
_recordings = {}


def recording(outdir):
    """The recording of REPLAY_COMMANDS on the lab dump at outdir (its path)."""
    if outdir in _recordings:
        return _recordings[outdir]
    os.makedirs(RECORDINGS, exist_ok=True)
    name = os.path.relpath(outdir, LAB).replace(os.sep, "-")
    raw, path = (os.path.join(RECORDINGS, name + ext) for ext in (".raw", ".mdrec"))
    if os.path.exists(raw):
        os.unlink(raw)
    for command in REPLAY_COMMANDS:
        p = subprocess.run([os.path.join(REPO, "build", "memdiag"), "--record", raw,
                            os.path.join(outdir, "vmlinux"), os.path.join(outdir, "vmcore")]
                           + command.split(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise AssertionError("memdiag --record %s failed:\n%s" % (command, p.stderr))
    # renamed into place: a campaign replaying the last one keeps reading it
    subprocess.run([REPLAY, "--compact", path + ".new", raw], check=True)
    os.rename(path + ".new", path)
    os.unlink(raw)
    _recordings[outdir] = path
    return path


def elf_sections(path):
    """{name: (file offset, size)} of an ELF file's sections, as readelf -S reads them."""
    out = subprocess.run(["readelf", "-S", "-W", path], stdout=subprocess.PIPE, text=True, check=True).stdout
    return {m.group(1): (int(m.group(2), 16), int(m.group(3), 16)) for m in
            re.finditer(r"^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", out, re.M)}


# ---------------------------------------------------------------------------
# pahole's reading of a vmlinux, the oracle of the type tests

LEAF = re.compile(r"^\t+(.*?)\s*\b(\w+)((?:\[\d*\])*)(?::(\d+))?;\s*/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*/")
OPEN = re.compile(r"^\t+(struct|union|enum)(?: \w+)? \{$")
CLOSE = re.compile(r"^\t+\}\s*(\w+)?(?:\[\d+\])*;\s*/\*\s*(\d+)\s+(\d+)\s*\*/")
# An unnamed member of a named struct type (7.x's struct slab embeds struct
# freelist_counters so, as -fms-extensions allows): its members are the outer's.
EMBED = re.compile(r"^\t+((?:struct|union) \w+) ;\s*/\*\s*(\d+)\s+(\d+)\s*\*/")
SIZE = re.compile(r"/\* size: (\d+),")
ATTRIBUTE = re.compile(r"\s*__attribute__\(\(\w+(?:\(\d+\))?\)\)")
ENUMERATOR = re.compile(r"^\t(\w+)\s*=\s*(-?\d+),?$")


class Pahole:
    """pahole 1.24's reading of a vmlinux with -F FORMAT (btf or dwarf): the
    layouts of the structs and unions NAMES (all of them when None: pahole
    with no -C prints every one, 0.2 s from BTF, 6-10 s and up to 3 GB from
    DWARF), and the enumerators of the enums ENUMS.  member() and size()
    answer as a target's member and type_size do."""

    def __init__(self, vmlinux, fmt, names=None, enums=()):
        self.vmlinux, self.fmt, self.types, self.enumerators = vmlinux, fmt, {}, {}
        if names is None:
            self._run([])
        else:
            self._ask(names)
        if enums:
            self._ask(enums)

    def _ask(self, names):
        """pahole -C NAMES: -F btf prints nothing if one is not found, so
        again without it; -F dwarf prints the others, but misses some of a
        list that it finds alone (rq, pg_level on 6.1)."""
        names = list(names)
        while names:
            missing = re.findall(r"type '(\w+)' not found", self._run(names).stderr)
            if not missing or self.fmt != "btf":
                break
            names = [n for n in names if n not in missing]

    def _run(self, names):
        p = subprocess.run(["pahole", "-F", self.fmt, "--suppress_aligned_attribute", "--suppress_packed"] +
                           (["-C", ",".join(names)] if names else []) + [self.vmlinux],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._parse(p.stdout)
        return p

    def _parse(self, text):
        block = []
        for line in text.splitlines():
            line = ATTRIBUTE.sub("", line)
            if line.startswith("typedef ") and line.endswith(";") and "{" not in line:
                m = re.match(r"^typedef (.*?)\s*\b(\w+);$", line)
                if m and m.group(2) not in self.types:
                    self.types[m.group(2)] = ("typedef", m.group(1))
                continue
            block.append(line)
            if line.startswith("}"):
                self._block(block)
                block = []

    def _block(self, lines):
        head, tail = lines[0], lines[-1]
        if head.startswith("enum "):
            for line in lines[1:-1]:
                m = ENUMERATOR.match(line)
                if m:
                    self.enumerators.setdefault(m.group(1), int(m.group(2)))
            return
        m = re.match(r"^(?:struct|union) (\w+) \{$", head) or re.match(r"^\}\s*(\w+);$", tail)
        if not m or m.group(1) in self.types:
            return  # a name defined twice: the first
        root, stack, size = {"members": []}, [], None
        node = root
        for line in lines[1:-1]:
            if OPEN.match(line):
                stack.append(node)
                node = {"members": []}
            elif CLOSE.match(line):
                c = CLOSE.match(line)
                if not stack:
                    return  # a layout this parser does not follow: not said
                parent = stack.pop()
                parent["members"].append(("block", c.group(1), node, int(c.group(2)), int(c.group(3))))
                node = parent
            elif EMBED.match(line):
                g = EMBED.match(line).groups()
                node["members"].append(("embed", g[0], int(g[1]), int(g[2])))
            elif LEAF.match(line):
                g = LEAF.match(line).groups()
                node["members"].append(("leaf", g[1], g[0].strip(), int(g[4]), int(g[5] or 0),
                                        int(g[6]), int(g[3] or 0)))
            elif SIZE.search(line) and not stack:
                size = int(SIZE.search(line).group(1))
        root["size"] = size
        self.types[m.group(1)] = ("layout", root)

    def layout(self, type_text):
        """The member tree of a type as pahole spells it, or None (a
        pointer, an array, a base type)."""
        text = re.sub(r"\b(const|volatile)\s+", "", type_text).strip()
        if "*" in text or "[" in text or "(" in text:
            return None
        t = self.types.get(text.split()[-1])
        if t is None:
            return None
        return t[1] if t[0] == "layout" else self.layout(t[1])

    def find(self, node, path):
        """(bit_offset, bit_size, size) of a dotted path in node, offsets
        as pahole prints them (from the outermost type), or None."""
        name, rest = path[0], path[1:]
        for item in node["members"]:
            if item[0] == "embed":
                inner = self.layout(item[1])
                r = inner and self.find(inner, path)
                if r:
                    return r[0] + item[2] * 8, r[1], r[2]
            elif item[0] == "block":
                _, bname, inner, byte, size = item
                if bname is None:
                    r = self.find(inner, path)
                    if r:
                        return r
                elif bname == name:
                    return (byte * 8, 0, size) if not rest else self.find(inner, rest)
            elif item[1] == name:
                _, _, text, byte, bit, size, bits = item
                if not rest:
                    return byte * 8 + bit, bits, size
                inner = self.layout(text)
                r = inner and self.find(inner, rest)
                return (r[0] + byte * 8, r[1], r[2]) if r else None
        return None

    def member(self, type_, path):
        return self.find(self.layout(type_), path.split(".")) if self.layout(type_) else None

    def size(self, type_):
        t = self.layout(type_)
        return t and t["size"]
