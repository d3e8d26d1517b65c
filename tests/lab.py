"""Helpers shared by the tests: lab dumps and the peer tools run on them."""

import json
import os
import re
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
MKVMCORE = os.path.join(REPO, "scripts", "mkvmcore")
LAB = os.path.join(REPO, "build", "lab")
KERNELS = ("6.1", "6.12")
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
    out = os.path.join(LAB, kernel, scenario, fmt)
    if not os.path.exists(os.path.join(out, "info.json")):
        mkvmcore("--kernel", kernel, "--format", fmt, scenario, out)
    return out


def info(outdir):
    return json.load(open(os.path.join(outdir, "info.json")))


def proc(outdir, name):
    return open(os.path.join(outdir, "proc", name)).read()


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


def crash(outdir, commands):
    """Run crash 8.0.2 in batch mode on a lab dump; returns its output.

    crash 8.0.2 cannot load 6.12's module list ("invalid structure member
    offset: module_core_size", the layout changed in 6.4): --no_modules there.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".crash", delete=False) as f:
        f.write("\n".join(commands) + "\nquit\n")
    try:
        extra = [] if info(outdir)["kernel_release"].startswith("6.1.") else ["--no_modules"]
        p = subprocess.run(["crash", "-s"] + extra + ["-i", f.name, os.path.join(outdir, "vmlinux"),
                           os.path.join(outdir, "vmcore")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, timeout=300)
        return p.stdout
    finally:
        os.unlink(f.name)


def crash_kmem_s(outdir, cache=None):
    """crash's `kmem -s [CACHE]` as {name: (allocated, total, slabs)}."""
    rows = {}
    for line in crash(outdir, ["kmem -s" + (" " + cache if cache else "")]).splitlines():
        m = re.match(r"^([0-9a-f]{16})\s+(\d+)\s+(-?\d+)\s+(\d+)\s+(\d+)\s+\d+k\s+(\S+)\s*$", line)
        if m:
            rows[m.group(6)] = (int(m.group(3)), int(m.group(4)), int(m.group(5)))
    return rows
