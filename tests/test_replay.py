"""The dump-free tier (issue 13): recordings, fault injection, fuzzing.

Each kernel's leak-tracked ELF dump is recorded once per test session
(lab.recording(): every command of lab.REPLAY_COMMANDS with --record).  The
replay must print exactly what the dump gives; then the ASan/UBSan replay
makes reads fail (or return zeroes, or random bytes) one at a time, and the
libFuzzer build changes bytes of what the reads return.  Every run must end,
cleanly (no sanitizer report), and a failed read that changes the output
must be named in it.

CI runs a bounded part: on 6.1 and 6.12 every read of the quick commands
and an even spread of the others' reads, fewer on the other kernels, and a
20-s fuzzing run.  scripts/faults and scripts/fuzz run the long campaigns.
"""

import glob
import os
import re
import shutil
import subprocess

import lab
from lab import ASAN_REPLAY, REPLAY, REPLAY_COMMANDS, REPO, dump, recording

MEMDIAG = os.path.join(REPO, "build", "memdiag")
FUZZ = os.path.join(REPO, "build", "fuzz", "memdiag-fuzz")
SWEEP_LINE = re.compile(r"^sweep (\w+): (\d+) runs, (\d+) crashes, (\d+) hangs, (\d+) sanitizer reports, "
                        r"(\d+) unnamed$", re.M)
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer")
# The commands whose every read CI fails in turn, on 6.1 and 6.12: a few
# hundred reads each.  The others get an even spread of SPREAD reads.
EVERY_READ = ("buddyfrag", "vmalloc")
SPREAD = {"fail": 40, "zero": 8, "random": 8}
OTHER_SPREAD = 10
MAIN_KERNELS = ("6.1", "6.12")


def lab_dump(kernel):
    return dump(kernel, "leak-tracked", "elf")


def replay(rec, *args, binary=REPLAY):
    p = subprocess.run([binary] + list(args[:-1]) + [rec] + args[-1].split(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    assert p.returncode >= 0, "memdiag-replay died of signal %d:\n%s" % (-p.returncode, p.stderr[-3000:])
    assert not SANITIZER_REPORT.search(p.stderr), p.stderr[-3000:]
    return p


def reads_of(rec, command):
    p = replay(rec, command)
    return int(re.search(r"^reads: (\d+)$", p.stderr, re.M).group(1))


def test_replay_prints_what_the_dump_gives():
    """The recording is faithful: each command replayed, with no dump, prints
    byte for byte what memdiag prints on the dump, in text and in JSON."""
    for kernel in lab.KERNEL_BUILDS:
        for command in REPLAY_COMMANDS:
            for fmt in ((), ("--json",)) if kernel in MAIN_KERNELS else ((),):
                def case(kernel=kernel, command=command, fmt=fmt):
                    out = lab_dump(kernel)
                    rec = recording(out)
                    want = subprocess.run([MEMDIAG] + list(fmt) + [os.path.join(out, "vmlinux"),
                                          os.path.join(out, "vmcore")] + command.split(),
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    got = replay(rec, *fmt, command)
                    assert got.returncode == want.returncode, (got.stderr, want.stderr)
                    assert got.stdout == want.stdout, "replay and dump differ:\n%s" % "\n".join(
                        "%s | %s" % (a, b) for a, b in zip(got.stdout.splitlines(), want.stdout.splitlines())
                        if a != b)
                yield "%s/%s%s" % (kernel, command, " --json" if fmt else ""), case


def check_sweep(rec, mode, command, step=1, reads=()):
    # two children at a time: CI's machine has two cores, and the tests run one by one
    window = ("--from", str(reads[0]), "--to", str(reads[-1])) if reads else ()
    p = replay(rec, "--sweep", mode, "--step", str(step), "--jobs", "2", *window, command,
               binary=ASAN_REPLAY)
    m = SWEEP_LINE.search(p.stdout)
    assert m, "no sweep line:\n%s\n%s" % (p.stdout[-2000:], p.stderr[-3000:])
    runs, crashes, hangs, reports, unnamed = map(int, m.groups()[1:])
    assert runs > 0
    assert (crashes, hangs, reports, unnamed) == (0, 0, 0, 0), \
        "%s: %d crashes, %d hangs, %d sanitizer reports, %d unnamed:\n%s" % (
            mode, crashes, hangs, reports, unnamed, p.stderr[-5000:])
    return runs


def test_the_sweep_counts_what_goes_wrong():
    """The sweep is an oracle only if it sees a child go wrong: children made
    to crash, hang, leak or change the output silently (--misbehave) are each
    counted and named by their read, one child at a time or two at once."""
    want = {  # (binary, misbehaviour): the sweep line's counts for 4 runs
        (ASAN_REPLAY, "crash"): (0, 0, 4, 0),  # ASan's SEGV handler reports it
        (REPLAY, "crash"): (4, 0, 0, 0),
        (ASAN_REPLAY, "hang"): (0, 4, 0, 0),
        (ASAN_REPLAY, "leak"): (0, 0, 4, 0),
        (ASAN_REPLAY, "unnamed"): (0, 0, 0, 4),
    }
    for (binary, misbehave), counts in want.items():
        for jobs in (1, 2):
            def case(binary=binary, misbehave=misbehave, counts=counts, jobs=jobs):
                rec = recording(lab_dump("6.12"))
                p = subprocess.run([binary, "--sweep", "fail", "--from", "300", "--to", "303", "--jobs",
                                    str(jobs), "--timeout", "2", "--misbehave", misbehave, rec, "buddyfrag"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
                assert p.returncode == 1, p.stderr[-3000:]
                m = SWEEP_LINE.search(p.stdout)
                assert m and int(m.group(2)) == 4, p.stdout
                assert tuple(map(int, m.groups()[2:])) == counts, p.stdout
                for n in range(300, 304):
                    assert re.search(r"\bread %d\b" % n, p.stderr), (n, p.stderr[-3000:])
            yield "%s/%s/jobs %d" % ("asan" if binary == ASAN_REPLAY else "plain", misbehave, jobs), case


def test_every_read_fails_in_turn():
    """Fault injection: the Nth read fails (zeroes, random bytes), for each
    N in turn.  On 6.1 and 6.12 every read of the quick commands and an even
    spread of SPREAD reads of the others; on the other kernels failing reads
    only, a spread of OTHER_SPREAD."""
    for kernel in lab.KERNEL_BUILDS:
        for mode, spread in SPREAD.items() if kernel in MAIN_KERNELS else (("fail", OTHER_SPREAD),):
            for command in REPLAY_COMMANDS:
                every = kernel in MAIN_KERNELS and mode == "fail" and command in EVERY_READ

                def case(kernel=kernel, mode=mode, spread=spread, command=command, every=every):
                    rec = recording(lab_dump(kernel))
                    step = 1 if every else max(1, reads_of(rec, command) // spread)
                    check_sweep(rec, mode, command, step)
                yield "%s/%s/%s%s" % (kernel, mode, command, "/every read" if every else ""), case


def test_an_unreadable_variable_is_named():
    """Regressions the sweeps found: a kernel variable that cannot be read was
    replaced by a default with no word said (HZ, so the leak's age vanished
    from the verdict; the socket memory line lost TCP)."""
    cases = (("tick_nsec", "memdiag", "HZ unknown, no ages: tick_nsec"),
             ("tcp_memory_allocated", "memdiag", "! socket memory: tcp_memory_allocated"),
             ("sysctl_panic_on_oom", "oomstate", "! sysctl_panic_on_oom unreadable"),
             ("oom_victims", "oomstate", "! oom_victims unreadable"),
             # whatis: the per-CPU line vanished, page flags turned to hex
             ("pcpu_unit_size", lab.WHATIS_LINE, "! per-CPU areas not told: pcpu_unit_size"),
             ("pageflag_names", lab.WHATIS_LINE, "! page flags in hex where unnamed: pageflag_names[]"))
    for kernel in MAIN_KERNELS:
        for symbol, command, message in cases:
            def case(kernel=kernel, symbol=symbol, command=command, message=message):
                rec = recording(lab_dump(kernel))
                # --wide: the "!" line whole, as md_print_problem() leaves it unwrapped
                name, _, rest = command.partition(" ")
                p = replay(rec, "--fail-symbol", symbol, " ".join([name, "--wide", rest]).strip(),
                           binary=ASAN_REPLAY)
                assert p.returncode == 0, p.stderr
                assert message in p.stdout, p.stdout
                assert "injected fault" in p.stdout
            yield "%s/%s" % (kernel, symbol), case


def test_an_unreadable_struct_page_is_named():
    """Regression the sweep found on 6.12: a pointer into a compound
    allocation makes the orphan scan read the head's struct page (its
    compound_head, flags and then, alone of all reads, one byte: the order).
    When one of those reads failed, the page was scanned alone and the rest
    of the allocation not at all, so an object referenced only from there
    counted as unreferenced, with no word said.  Each such read, made to
    fail, must be named."""
    for kernel in MAIN_KERNELS:
        def case(kernel=kernel):
            rec = recording(lab_dump(kernel))
            p = replay(rec, "--trace", "slableak -u")
            reads = {int(n): (int(a, 16), int(l)) for n, a, l in
                     re.findall(r"^read (\d+) 0x([0-9a-f]+) (\d+)$", p.stderr, re.M)}
            # the order: one byte just after the head's flags (8 bytes, at most
            # two struct pages below it); the slab walk reads one byte too
            orders = [n for n, (addr, length) in sorted(reads.items())
                      if length == 1 and reads.get(n - 1, (0, 0))[1] == 8 and 0 < addr - reads[n - 1][0] < 2 * 64]
            assert orders, "no compound page's order read in slableak -u:\n" + p.stderr[-2000:]
            for n in orders[:3]:
                check_sweep(rec, "fail", "slableak -u", reads=(n - 2, n))
                # the order read, and the head's flags and compound_head where
                # they were not served by an earlier, larger read
                for nth in range(n - 2, n + 1):
                    addr, length = reads[nth]
                    if nth < n and not (length == 8 and 0 <= reads[n][0] - addr < 2 * 64):
                        continue
                    q = replay(rec, "--fault", "fail", "--nth", str(nth), "slableak -u")
                    assert "scanned alone: its struct page could not be read" in q.stdout, (nth, q.stdout[-3000:])
        yield kernel, case


def test_bad_recordings_are_refused_clearly():
    """A recording that is empty, not one, or cut short is refused with a
    message naming the file and what is wrong, never read past its end."""
    scratch = os.path.join(lab.RECORDINGS, "bad.mdrec")
    head = len("memdiag recording 1\n")
    cases = (("empty", lambda whole: b"", "empty, not a memdiag recording"),
             ("not one", lambda whole: b"ELF\x7f" * 100, "not a memdiag recording"),
             ("cut in a chunk", lambda whole: whole[:head + 3000], "a chunk is cut short"),
             ("unknown record", lambda whole: whole[:head] + b"Z", "unknown record 'Z'"))
    for name, make, message in cases:
        def case(make=make, message=message):
            whole = open(recording(lab_dump("6.12")), "rb").read()
            with open(scratch, "wb") as f:
                f.write(make(whole))
            for binary in (REPLAY, ASAN_REPLAY):
                p = replay(scratch, "buddyfrag", binary=binary)
                assert p.returncode == 1, p.stderr
                assert p.stderr.startswith("memdiag-replay: %s: " % scratch) and message in p.stderr, p.stderr
        yield name, case


def test_fuzzing_finds_nothing():
    """A bounded libFuzzer run (ASan, UBSan, LeakSanitizer) over the 6.12
    recording, from tests/fuzz-seeds, after the inputs that once crashed or
    hung, each run as it is on the recording it was found on
    (tests/fuzz-regressions/KERNEL-SCENARIO/): no crash, no leak, no
    timeout."""
    regressions = os.path.join(REPO, "tests", "fuzz-regressions")
    for where in sorted(os.listdir(regressions)):
        kernel, scenario = where.split("-", 1)
        inputs = sorted(glob.glob(os.path.join(regressions, where, "*")))
        env = dict(os.environ, MEMDIAG_FUZZ_RECORDING=recording(dump(kernel, scenario, "elf")))
        p = subprocess.run([FUZZ, "-timeout=30"] + inputs, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        assert p.returncode == 0, (where, p.stdout[-5000:])
        assert p.stdout.count("Executed ") == len(inputs), (where, p.stdout[-3000:])
    rec = recording(lab_dump("6.12"))
    corpus = os.path.join(REPO, "build", "fuzz", "corpus")
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(os.path.join(REPO, "tests", "fuzz-seeds"), corpus)
    env = dict(os.environ, MEMDIAG_FUZZ_RECORDING=rec)
    p = subprocess.run([FUZZ, "-max_total_time=20", "-timeout=30", "-rss_limit_mb=4096", "-max_len=512",
                        "-len_control=10", "-print_final_stats=1",
                        "-artifact_prefix=%s/" % os.path.join(REPO, "build", "fuzz"), corpus],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-5000:]
    runs = int(re.search(r"stat::number_of_executed_units: (\d+)", p.stdout).group(1))
    assert runs > 100, p.stdout[-2000:]
