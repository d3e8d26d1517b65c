"""oomstate: the OOM killer's state from the dump (issue 6).

Oracles: the kernel's own OOM report in the guest's console log (the
"invoked oom-killer" line and its dump_tasks table, printed by mm/oom_kill.c
from the same counters moments before the panic); the scenario modules'
own lines (oomstop prints the struct oom_control that __oom_kill_process
was reached with, oomnull the address of the one it built); userhog's
/proc/PID/status and truth captured in the guest; crash with memdiag.so.
"""

import json
import os
import re
import struct
import subprocess

from lab import DIRECT_MAP, FORMATS, KERNELS, REPO, crash_extension, dump, patched_copy, task_lost_to_the_filter
from test_slab import build, memdiag


# The JSON's kernel addresses: "0x..." strings (doc/json.md; jq rounds numbers
# above 2^53), null for a NULL pointer.
ADDRESS_KEYS = ("task", "memcg", "oom_mm", "address", "zonelist", "nodemask", "chosen")


def addresses_as_ints(v):
    """The document with its addresses as ints (NULL as 0), each checked to
    be a "0x" string or null first."""
    if isinstance(v, list):
        return [addresses_as_ints(x) for x in v]
    if not isinstance(v, dict):
        return v
    d = {}
    for k, x in v.items():
        if k in ADDRESS_KEYS and not isinstance(x, dict):
            assert x is None or (isinstance(x, str) and re.match(r"^0x[0-9a-f]{16}$", x)), (k, x)
            d[k] = int(x, 16) if x else 0
        else:
            d[k] = addresses_as_ints(x)
    return d


def oomstate(out, *args, **kw):
    return addresses_as_ints(json.loads(memdiag(out, "--json", "oomstate", *args, **kw).stdout))


def console(out):
    return open(os.path.join(out, "console.log"), errors="replace").read()


def log_text(line):
    """A console line without its "[    2.754851] " timestamp."""
    return re.sub(r"^\[\s*\d+\.\d+\]\s", "", line)


def console_dump_tasks(out):
    """The last dump_tasks() table in the console log: {pid: {column: value}}."""
    lines = [log_text(l) for l in console(out).splitlines()]
    start = max(i for i, l in enumerate(lines) if " invoked oom-killer: " in l)
    header = next(l for l in lines[start:] if l.startswith("[  pid  ]"))
    columns = header.replace("[  pid  ]", "pid").split()[:-1]
    rows = {}
    for l in lines[lines.index(header, start) + 1:]:
        m = re.match(r"^\[\s*(\d+)\]\s+(.*)$", l)
        if not m:
            break
        values = [int(m.group(1))] + [int(v) for v in m.group(2).split()[:len(columns) - 1]]
        row = dict(zip(columns, values))
        row["name"] = m.group(2).split(None, len(columns) - 1)[-1]
        rows[row["pid"]] = row
    return rows


def oomstop_truth(out):
    """What oomstop printed at __oom_kill_process: the oc and the victim."""
    text = console(out)
    oc = re.search(r"oomstop: oc=([0-9a-f]+) chosen=([0-9a-f]+) chosen_points=(-?\d+) totalpages=(\d+)", text)
    victim = re.search(r"oomstop: victim=[0-9a-f]+ pid=(\d+) comm=(\S+)", text)
    assert oc and victim, "oomstop's lines missing from the console log"
    return {"oc": int(oc.group(1), 16), "chosen": int(oc.group(2), 16), "chosen_points": int(oc.group(3)),
            "totalpages": int(oc.group(4)), "pid": int(victim.group(1)), "comm": victim.group(2)}


def probe(out, *commands):
    """The standalone target's answers (tests/target_probe.c), one per command."""
    build("build/target_probe")
    p = subprocess.run([os.path.join(REPO, "build", "target_probe"), os.path.join(out, "vmlinux"),
                        os.path.join(out, "vmcore")], input="\n".join(commands) + "\n",
                       stdout=subprocess.PIPE, text=True, check=True, timeout=300)
    return p.stdout.splitlines()


def test_hog_ranks_first_with_the_kernels_figures():
    """oom: memhog is rank 1, and its RSS (and anon/file/shmem where the kernel
    prints them), pgtables_bytes, swapents and total_vm equal its row in the
    kernel's dump_tasks table; so does every other row of the table."""
    for k in KERNELS:
        for f in FORMATS:
            def case(k=k, f=f):
                out = dump(k, "oom", f)
                doc = oomstate(out)
                table = console_dump_tasks(out)
                truth = oomstop_truth(out)
                procs = {p["pid"]: p for p in doc["processes"]}
                for pid, row in table.items():
                    if task_lost_to_the_filter(out, doc, pid):
                        continue
                    p = procs[pid]
                    for col, key in REPORT_KEYS.items():
                        if col in row and col != "pid":
                            assert p[key] == row[col], (pid, col, p[key], row[col])
                assert doc["total_pages"] == truth["totalpages"]
                if task_lost_to_the_filter(out, doc, truth["pid"]):
                    return
                first = doc["processes"][0]
                assert first["rank"] == 1 and first["pid"] == truth["pid"] and first["comm"] == "memhog", first
                # memhog's points are what oom_badness() gave it: oomstop printed them.
                assert first["points"] == truth["chosen_points"], (first["points"], truth)
            yield "%s/%s" % (k, f), case


def test_oom_control_on_the_panicking_stack():
    """oom: the struct oom_control __oom_kill_process was reached with is found
    on memhog's stack, chosen = memhog, gfp_mask decoded as the kernel printed
    it, and no anomaly."""
    for k in KERNELS:
        for f in FORMATS:
            def case(k=k, f=f):
                out = dump(k, "oom", f)
                doc = oomstate(out)
                truth = oomstop_truth(out)
                if task_lost_to_the_filter(out, doc, truth["pid"]):
                    # no task_struct, no stack to scan: test_oom_verdict_without_
                    # the_oom_tasks_struct covers what is still said then
                    return
                live = [c for c in doc["oom_controls"] if not c["stale"]]
                assert [c["address"] for c in live] == [truth["oc"]], (live, truth)
                oc = live[0]
                assert oc["task"]["pid"] == truth["pid"]
                assert oc["chosen"] == truth["chosen"] and oc["chosen_task"]["pid"] == truth["pid"]
                assert oc["chosen_points"] == truth["chosen_points"] == oc["recomputed_points"]
                assert oc["total_pages"] == truth["totalpages"]
                assert oc["anomalies"] == [], oc["anomalies"]
                invoked = re.search(r"invoked oom-killer: gfp_mask=(0x[0-9a-f]+)\(([^)]*)\), order=(\d+)",
                                    console(out))
                assert (oc["gfp_mask"], oc["gfp_flags"], oc["order"]) == \
                    (int(invoked.group(1), 16), invoked.group(2), int(invoked.group(3)))
                assert oc["constraint"] == "CONSTRAINT_NONE" and oc["memcg"] == 0
                assert doc["oom_lock_owner"]["pid"] == truth["pid"]
                # the verdict, first: in progress, on whose stack, whom it chose
                v = doc["verdict"]
                assert v["kind"] == "in_progress" and v["next"] == "memdiag", v
                assert v["text"].startswith("OOM in progress: a struct oom_control on pid %d (memhog)'s stack; "
                                            "global OOM, order %d, gfp %s; chose pid %d (memhog), %d points = "
                                            % (truth["pid"], oc["order"], oc["gfp_flags"], truth["pid"],
                                               truth["chosen_points"])), v
                text = memdiag(out, "oomstate").stdout
                assert text.startswith("VERDICT\n  OOM in progress: ") and "    -> run: memdiag\n" in text, text
            yield "%s/%s" % (k, f), case


# The kernel's dump_tasks() columns (mm/oom_kill.c) and their JSON keys,
# with units (doc/json.md).
REPORT_KEYS = {"pid": "pid", "uid": "uid", "tgid": "tgid", "total_vm": "total_vm_pages", "rss": "rss_pages",
               "rss_anon": "rss_anon_pages", "rss_file": "rss_file_pages", "rss_shmem": "rss_shmem_pages",
               "pgtables_bytes": "pgtables_bytes", "swapents": "swap_entries_pages",
               "oom_score_adj": "oom_score_adj"}


def test_log_report_is_the_consoles():
    """The OOM report read from the dump's printk ring buffer is the one the
    console printed: the same header line and dump_tasks rows."""
    for k in KERNELS:
        for s in ("oom", "oom-panic"):
            def case(k=k, s=s):
                out = dump(k, s, "kdump")
                report = oomstate(out)["log_report"]
                header = [log_text(l) for l in console(out).splitlines() if " invoked oom-killer: " in l][-1]
                assert report["header"] == header
                table = console_dump_tasks(out)
                got = {r["pid"]: r for r in report["tasks"]}
                assert set(got) == set(table)
                for pid, row in table.items():
                    for col, v in row.items():
                        assert got[pid][REPORT_KEYS.get(col, col)] == v, (pid, col, got[pid], v)
            yield "%s/%s" % (k, s), case


def test_null_chosen_is_the_seeds_anomaly():
    """oom-null-chosen: the oom_control the module built (chosen NULL,
    chosen_points LONG_MIN) is found at the address it printed, and flagged."""
    for k in KERNELS:
        for f in FORMATS:
            def case(k=k, f=f):
                out = dump(k, "oom-null-chosen", f)
                address = int(re.search(r"oomnull: oc=([0-9a-f]+)", console(out)).group(1), 16)
                doc = oomstate(out)
                oc = [c for c in doc["oom_controls"] if c["address"] == address]
                if not oc and task_lost_to_the_filter(out, doc, module_loader(out)):
                    # makedumpfile 1.7.2 left task_struct pages out (7.2, some boots):
                    # insmod's stack was never found, and oomstate must not claim
                    # that no task is inside out_of_memory()
                    assert doc["oom_controls"] == [] and not doc["tasks_complete"], doc["oom_controls"]
                    text = memdiag(out, "oomstate").stdout
                    assert "  none found on the stacks that could be read (" in text and \
                        "no task is inside out_of_memory()" not in text, text
                    return
                assert oc, "the module's oom_control at 0x%x not found: %s" % (address, doc["oom_controls"])
                assert oc[0]["chosen"] == 0 and oc[0]["chosen_points"] == "LONG_MIN"
                assert any("chosen is NULL while chosen_points is LONG_MIN" in a for a in oc[0]["anomalies"])
                text = memdiag(out, "oomstate").stdout
                assert "! ANOMALY: chosen is NULL while chosen_points is LONG_MIN" in text
            yield "%s/%s" % (k, f), case


def module_loader(out):
    """The pid of the insmod that panicked in the scenario's module (the
    panic's "CPU: N ... PID: P Comm: insmod" line)."""
    return int(re.search(r"\bPID: (\d+) Comm: insmod\b", console(out)).group(1))


def test_panic_on_oom_before_selection_is_not_an_anomaly():
    """oom-panic: panic_on_oom panics before select_bad_process(), so oc->chosen
    is NULL with chosen_points 0: said so, not flagged."""
    for k in KERNELS:
        def case(k=k):
            out = dump(k, "oom-panic", "elf")
            doc = oomstate(out)
            assert doc["panic_on_oom"] == 1
            live = [c for c in doc["oom_controls"] if not c["stale"]]
            assert len(live) == 1 and live[0]["task"]["comm"] == "memhog", live
            assert live[0]["chosen"] == 0 and live[0]["chosen_points"] == 0
            assert live[0]["anomalies"] == [] and any("panic_on_oom" in n for n in live[0]["notes"])
            assert doc["processes"][0]["comm"] == "memhog"
        yield k, case


def test_no_false_anomalies_and_the_hog_first():
    """baseline and userhog: no oom_control, no victim, oom_lock free; in userhog
    the hog ranks first and its RSS equals its /proc/PID/status (kB)."""
    for k in KERNELS:
        for s in ("baseline", "userhog"):
            for f in FORMATS:
                def case(k=k, s=s, f=f):
                    out = dump(k, s, f)
                    doc = oomstate(out)
                    assert doc["oom_controls"] == [] and doc["oom_lock_owner"] is None
                    assert not [p for p in doc["processes"] if p["oom_mm"]]
                    assert doc["oom_victims"] == 0 and doc["oom_reaper_list"] == []
                    assert doc["verdict"]["kind"] == "none", doc["verdict"]
                    assert doc["verdict"]["text"].startswith("no OOM in progress and none in the kernel log")
                    if s != "userhog":
                        return
                    truth = dict(kv.split("=") for kv in open(os.path.join(out, "out", "truth")).read().split())
                    status = {m.group(1): int(m.group(2)) for m in
                              re.finditer(r"^(\w+):\s+(\d+)", open(os.path.join(out, "out", "status")).read(), re.M)}
                    if task_lost_to_the_filter(out, doc, int(truth["pid"])):
                        return
                    first = doc["processes"][0]
                    assert first["rank"] == 1 and first["pid"] == int(truth["pid"]) and first["comm"] == "userhog"
                    assert "; select_bad_process() would choose pid %d (userhog), %d points = " % (
                        first["pid"], first["points"]) in doc["verdict"]["text"], doc["verdict"]
                    # /proc/PID/status sums the per-CPU counters (6.2+: get_mm_counter_sum()).
                    assert first["rss_with_percpu_pages"] * 4 == status["VmRSS"], (first, status)
                    assert first["rss_pages"] <= first["rss_with_percpu_pages"]
                    assert first["rss_anon_pages"] * 4 >= int(truth["anon_kib"]) * 0.95
            yield "%s/%s/%s" % (k, s, f), case


def test_extension_prints_the_same():
    """crash with memdiag.so prints the standalone program's lines, on every
    kernel: oom's kdump dump (the session test_extension's check of every
    command opens too) and oom-null-chosen's ELF one."""
    for k in KERNELS:
        for s, f in (("oom", "kdump"), ("oom-null-chosen", "elf")):
            def case(k=k, s=s, f=f):
                build("build/memdiag.so")
                out = dump(k, s, f)
                ours = memdiag(out, "oomstate").stdout.splitlines()
                text, session = crash_extension(out, "oomstate")
                theirs = text.splitlines()
                assert len(ours) > 20
                missing = [l for l in ours if l not in theirs]
                assert not missing, "lines missing in crash: %s\ncrash printed:\n%s" % (missing[:5], session[-3000:])
            yield "%s/%s/%s" % (k, s, f), case


def member_offset(out, type_, member):
    line = probe(out, "member %s %s" % (type_, member))[0]
    return int(re.match(r"offset=(\d+)", line).group(1))


def read_u64(out, address):
    return struct.unpack("<Q", bytes.fromhex(probe(out, "read %x 8" % address)[0]))[0]


def test_changed_badness_is_flagged():
    """A copy of oom's 6.1 dump with memhog's oom_score_adj changed to 500: the
    oom_control's chosen_points no longer equals the recomputed badness, which
    is flagged; everything else is still printed."""
    out = dump("6.1", "oom", "elf")
    truth = oomstop_truth(out)
    signal_off = member_offset(out, "struct task_struct", "signal")
    adj_off = member_offset(out, "struct signal_struct", "oom_score_adj")
    signal = read_u64(out, truth["chosen"] + signal_off)
    bad = patched_copy(out, "oom-score-adj", [(signal + adj_off, struct.pack("<h", 500))])
    doc = oomstate(bad)
    oc = [c for c in doc["oom_controls"] if c["address"] == truth["oc"]][0]
    assert oc["recomputed_points"] == truth["chosen_points"] + 500 * (truth["totalpages"] // 1000)
    assert any("differs from pid %d's badness" % truth["pid"] in a for a in oc["anomalies"]), oc["anomalies"]
    text = memdiag(bad, "oomstate").stdout
    assert "! ANOMALY: chosen_points %d differs" % truth["chosen_points"] in text
    assert "THE LAST OOM REPORT IN THE KERNEL LOG" in text


def test_broken_task_list_is_reported_and_the_rest_printed():
    """A copy of oom's 6.1 dump whose first process's tasks.next points at
    garbage: oomstate names the broken link, finds the processes after it from
    the list's other end (memhog still ranks first), and still finds the
    oom_control and the log report."""
    out = dump("6.1", "oom", "elf")
    tasks_off = member_offset(out, "struct task_struct", "tasks")
    init_task = int(probe(out, "sym init_task")[0], 16)
    first = read_u64(out, init_task + tasks_off)
    bad = patched_copy(out, "task-list", [(first, struct.pack("<Q", 0xffff888041414140))])
    p = memdiag(bad, "oomstate")
    assert re.search(r"^! task list at 0x%x: .*0xffff888041414140" % first, p.stdout, re.M), p.stdout
    assert "THE LAST OOM REPORT IN THE KERNEL LOG" in p.stdout
    doc = oomstate(bad)
    assert any("task list at 0x%x" % first in e for e in doc["errors"])
    assert doc["processes"][0]["comm"] == "memhog" and doc["processes"][0]["rank"] == 1, doc["processes"][:2]
    assert [c for c in doc["oom_controls"] if c["chosen_task"] and c["chosen_task"]["comm"] == "memhog"]
    assert doc["log_report"] and doc["log_report"]["tasks"]


def test_bad_arguments():
    out = dump("6.1", "oom", "elf")
    p = memdiag(out, "oomstate", "-x", check=False)
    assert p.returncode != 0 and "oomstate: unknown option '-x'" in p.stderr, p.stderr
    p = memdiag(out, "oomstate", "-m", "zz", check=False)
    assert p.returncode != 0 and "-m wants a cgroup path (/a/b) or the address of a struct mem_cgroup" in p.stderr, p.stderr


def test_memcg_ranking():
    """-m with the root memory cgroup, by address and by path: every process is its member (the walk
    up css.parent), totalpages is the root's memory.max, PAGE_COUNTER_MAX
    (mm/page_counter.h: LONG_MAX / PAGE_SIZE), plus no swap; memhog still
    first.  An address that is not a mem_cgroup is refused by name."""
    for k in KERNELS:
        def case(k=k):
            out = dump(k, "oom", "elf")
            root = read_u64(out, int(probe(out, "sym root_mem_cgroup")[0], 16))
            doc = oomstate(out, "-m", "%x" % root)
            assert doc["memcg"] == root
            assert doc["total_pages"] == (2**63 - 1) // 4096, doc["total_pages"]
            assert doc["processes"][0]["comm"] == "memhog" and doc["processes"][0]["rank"] == 1
            assert {p["pid"] for p in doc["processes"]} == {p["pid"] for p in oomstate(out)["processes"]}
            p = memdiag(out, "oomstate", "-m", "%x" % (root + 0x1000), check=False)
            assert p.returncode != 0 and "is not a struct mem_cgroup" in p.stderr, p.stderr
            # by path, as under /sys/fs/cgroup: "/" is the root (the lab's
            # guests make no other cgroup); a path no cgroup has is named
            assert oomstate(out, "-m", "/") == doc
            p = memdiag(out, "oomstate", "-m", "/system.slice/x", check=False)
            assert p.returncode == 2 and "no memory cgroup 'system.slice' in '/' (there: none)" in p.stderr, p
        yield k, case


def test_unreadable_signal_struct_is_named_and_leaks_nothing():
    """memhog's task_struct.signal pointed at memory the guest never had, in a
    copy of oom's 6.1 and 6.12 dumps: oomstate (also under ASan, UBSan and
    LeakSanitizer: once it leaked the read's error object) names the
    unreadable signal_struct of that task and still prints every other
    process and the log's report."""
    asan = os.path.join(REPO, "build", "asan", "memdiag")
    for k in ("6.1", "6.12"):
        def case(k=k):
            out = dump(k, "oom", "elf")
            truth = oomstop_truth(out)
            signal_off = member_offset(out, "struct task_struct", "signal")
            bad = patched_copy(out, "bad-signal", [(truth["chosen"] + signal_off, struct.pack("<Q", 0xffff888041414140))])
            clean = oomstate(out)
            for binary in (os.path.join(REPO, "build", "memdiag"), asan):
                build(os.path.relpath(binary, REPO))
                p = memdiag(bad, "--json", "oomstate", binary=binary)
                assert not re.search(r"Sanitizer|runtime error", p.stderr), p.stderr[-3000:]
                doc = json.loads(p.stdout)
                assert any("pid %d (memhog)" % truth["pid"] in e and "0xffff888041414140" in e
                           for e in doc["errors"]), doc["errors"]
                assert {q["pid"] for q in doc["processes"]} == {q["pid"] for q in clean["processes"]}
                assert doc["log_report"] and doc["log_report"]["tasks"]
        yield k, case


def test_impossible_rss_counter_is_named_not_shown():
    """memhog's MM_ANONPAGES counter set to 2^62 pages in a copy of oom's 6.1
    (struct mm_rss_stat) and 6.12 (percpu_counter) dumps: a counter no
    machine can hold is named as corrupt, the process gets no figures
    (null, never 2^62), and the others rank as before."""
    for k in ("6.1", "6.12"):
        def case(k=k):
            out = dump(k, "oom", "elf")
            truth = oomstop_truth(out)
            mm = read_u64(out, truth["chosen"] + member_offset(out, "struct task_struct", "mm"))
            anon = int(probe(out, "enum MM_ANONPAGES")[0])
            rss_stat = member_offset(out, "struct mm_struct", "rss_stat")
            if probe(out, "size struct mm_rss_stat")[0].isdigit():   # before 6.2: atomic_long_t count[]
                at = mm + rss_stat + member_offset(out, "struct mm_rss_stat", "count") + anon * 8
            else:   # struct percpu_counter rss_stat[NR_MM_COUNTERS]
                at = mm + rss_stat + anon * int(probe(out, "size struct percpu_counter")[0]) + \
                    member_offset(out, "struct percpu_counter", "count")
            bad = patched_copy(out, "rss-2-62", [(at, struct.pack("<Q", 1 << 62))])
            clean = oomstate(out)
            for binary in (os.path.join(REPO, "build", "memdiag"), os.path.join(REPO, "build", "asan", "memdiag")):
                build(os.path.relpath(binary, REPO))
                p = memdiag(bad, "--json", "oomstate", binary=binary)
                assert not re.search(r"Sanitizer|runtime error", p.stderr), p.stderr[-3000:]
                doc = json.loads(p.stdout)
                assert any("pid %d (memhog)" % truth["pid"] in e and "MM_ANONPAGES counter, %d pages, cannot be"
                           % (1 << 62) in e for e in doc["errors"]), doc["errors"]
                hog = [q for q in doc["processes"] if q["pid"] == truth["pid"]][0]
                assert hog["rss_pages"] is None and hog["rss_anon_pages"] is None, hog
                assert str(1 << 62) not in json.dumps(doc["processes"])
                rest = lambda d: [(q["pid"], q["rss_pages"]) for q in d["processes"] if q["pid"] != truth["pid"]]
                assert rest(doc) == rest(clean)
        yield k, case


def test_scribbled_log_ring_is_named():
    """The printk ring's descriptors overwritten with 0x41 bytes, in a copy of
    oom's 6.1 and 6.12 dumps: the OOM report is gone, and oomstate says that
    records were lost to corrupt descriptors, where it once said "none" as
    if the log had none."""
    from test_memdiag import kernel_address_to_direct_map
    for k in ("6.1", "6.12"):
        def case(k=k):
            out = dump(k, "oom", "elf")
            prb = read_u64(out, int(probe(out, "sym prb")[0], 16))
            ring = prb + member_offset(out, "struct printk_ringbuffer", "desc_ring")
            descs = read_u64(out, ring + member_offset(out, "struct prb_desc_ring", "descs"))
            count_bits = struct.unpack("<I", bytes.fromhex(
                probe(out, "read %x 4" % (ring + member_offset(out, "struct prb_desc_ring", "count_bits")))[0]))[0]
            size = (1 << count_bits) * int(probe(out, "size struct prb_desc")[0])
            if descs < DIRECT_MAP + (1 << 40):
                at = descs
            else:   # the static ring, in the kernel image
                at = kernel_address_to_direct_map(out, descs)
            bad = patched_copy(out, "log-scribbled", [(at, b"\x41" * size)])
            assert oomstate(out)["log_report"], "the clean dump has the report"
            doc = oomstate(bad)
            assert doc["log_report"] is None
            assert any("records lost to corrupt descriptors" in e for e in doc["errors"]), doc["errors"]
            assert "records lost to corrupt descriptors" in memdiag(bad, "oomstate").stdout
        yield k, case


def test_impossible_log_ring_size_is_named():
    """Found by the fuzzer: a descriptor ring of 2^31 descriptors had the
    log reader allocate 48 GB (ASan: out of memory).  The kernel makes one
    descriptor per 32 bytes of text (kernel/printk/printk.c PRB_AVGBITS):
    any other size is named as corrupt, the log left out, and oomstate
    still prints its processes."""
    for k in ("6.1", "6.12"):
        def case(k=k):
            out = dump(k, "oom", "elf")
            prb = read_u64(out, int(probe(out, "sym prb")[0], 16))
            ring = prb + member_offset(out, "struct printk_ringbuffer", "desc_ring")
            at = ring + member_offset(out, "struct prb_desc_ring", "count_bits")
            if at >= DIRECT_MAP + (1 << 40):   # the static ring, in the kernel image
                from test_memdiag import kernel_address_to_direct_map
                at = kernel_address_to_direct_map(out, at)
            bad = patched_copy(out, "log-ring-size", [(at, struct.pack("<I", 31))])
            clean, doc = oomstate(out), oomstate(bad)
            assert doc["log_report"] is None and clean["log_report"], clean["log_report"]
            assert any(re.search(r"ring sizes 2\^31 descriptors, 2\^\d+ bytes", e) for e in doc["errors"]), \
                doc["errors"]
            assert [p["pid"] for p in doc["processes"]] == [p["pid"] for p in clean["processes"]]
        yield k, case


def test_garbage_chosen_keeps_the_control():
    """The panicking oom_control's chosen overwritten with 0x4141414141414141
    (its address from oomstop, the scenario's own module), in a copy of
    oom's 6.1 and 6.12 dumps: the control is still found on the stack and
    the garbage is its anomaly; oomstate once said that no task was inside
    out_of_memory()."""
    for k in ("6.1", "6.12"):
        def case(k=k):
            out = dump(k, "oom", "elf")
            truth = oomstop_truth(out)
            from test_memdiag import kernel_address_to_direct_map   # the stack is vmalloc'd
            chosen = truth["oc"] + member_offset(out, "struct oom_control", "chosen")
            bad = patched_copy(out, "oc-chosen", [(kernel_address_to_direct_map(out, chosen),
                                                   struct.pack("<Q", 0x4141414141414141))])
            doc = oomstate(bad)
            oc = [c for c in doc["oom_controls"] if c["address"] == truth["oc"]]
            assert oc, "the oom_control at 0x%x is gone" % truth["oc"]
            assert any("chosen 0x4141414141414141 is not a task on the task list" in a for a in oc[0]["anomalies"]), \
                oc[0]["anomalies"]
            assert "no task is inside out_of_memory()" not in memdiag(bad, "oomstate").stdout
        yield k, case


def test_comm_that_is_not_utf8_stays_valid_json():
    """memhog's comm made b"\\xffhog\\xfe" in a copy of oom's 6.1 and 6.12
    dumps (a comm is any bytes a program sets with prctl(PR_SET_NAME)):
    --json stays valid UTF-8 JSON, each such byte the code point of the
    same value ("\\u00ffhog\\u00fe"); the mutation campaign once met an
    output no JSON reader could read."""
    for k in ("6.1", "6.12"):
        def case(k=k):
            out = dump(k, "oom", "elf")
            truth = oomstop_truth(out)
            comm = truth["chosen"] + member_offset(out, "struct task_struct", "comm")
            bad = patched_copy(out, "comm-bytes", [(comm, b"\xffhog\xfe\0")])
            raw = subprocess.run([os.path.join(REPO, "build", "memdiag"), "--json", os.path.join(bad, "vmlinux"),
                                  os.path.join(bad, "vmcore"), "oomstate"], stdout=subprocess.PIPE, check=True).stdout
            doc = json.loads(raw.decode("utf-8"))   # strict: raises on a stray byte
            assert [p for p in doc["processes"] if p["pid"] == truth["pid"]][0]["comm"] == "\u00ffhog\u00fe"
        yield k, case
