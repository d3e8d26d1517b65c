"""Issue 16: the walks that scale.

The standalone program reads slabs ahead in other threads, through clones of
its dump reader (lib/readahead.c), and its orphan scan keeps a bounded gray
stack, sweeping the slot bitmaps for what did not fit (lib/orphans.c).
Neither may change an answer: on every lab dump, ELF and filtered, the JSON of
`slableak -u kmalloc-128` (the reference scan, which walks every cache's
objects, then the attribution of one cache) is the same with one thread and
the usual stack as with three (two readers) and a stack of 16 objects; so is
`slableak dentry` on dentry-flood (the census rides on the same walk).
Speed and memory are scripts/bench's business, never asserted here.
"""

import os
import subprocess

from lab import KERNELS, LAB_PLAN, REPO, dump

MEMDIAG = os.path.join(REPO, "build", "memdiag")
ONE_THREAD = {"MEMDIAG_THREADS": "1"}
THREADS_AND_SMALL_STACK = {"MEMDIAG_THREADS": "3", "MEMDIAG_GRAY_STACK": "16"}


def run(out, command, env):
    p = subprocess.run([MEMDIAG, "--json", os.path.join(out, "vmlinux"), os.path.join(out, "vmcore")] +
                       command.split(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, **env), timeout=600)
    assert p.returncode >= 0, "memdiag died of signal %d:\n%s" % (-p.returncode, p.stderr[-3000:])
    return p


def test_threads_and_a_small_stack_change_nothing():
    for line in KERNELS:
        for scenario in LAB_PLAN[line]:
            for fmt in ("elf", "filtered"):  # mapped pages, and inflated ones (kdump's too)
                commands = ["slableak -u kmalloc-128"] + (["slableak dentry"] if scenario == "dentry-flood" else [])

                def case(line=line, scenario=scenario, fmt=fmt, commands=commands):
                    out = dump(line, scenario, fmt)
                    for command in commands:
                        one = run(out, command, ONE_THREAD)
                        two = run(out, command, THREADS_AND_SMALL_STACK)
                        assert one.returncode == 0 and '"objects"' in one.stdout, one.stderr[-2000:]
                        assert (two.returncode, two.stdout, two.stderr) == (one.returncode, one.stdout, one.stderr), \
                            "%s: one thread and three differ" % command
                yield "%s/%s/%s" % (line, scenario, fmt), case
